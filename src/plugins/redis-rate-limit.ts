import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { SharedCounters } from './rate-limit.js'

/** A shared counter outlives its window by this much (instances' clocks differ a little). */
const EXPIRY_SLACK_MS = 5_000

/**
 * Rate-limit counters in Redis, so every instance shares them: one pipelined INCRBY + PEXPIREAT
 * per active client per sync, behind the connection factory's circuit breaker. Without
 * REDIS_URL it provides nothing and the limiter counts in memory.
 */
async function redisRateLimit(app: FastifyInstance) {
  const { config, redis } = app
  if (!redis) return
  const client = redis.open('rate-limit')
  const prefix = `${config.REDIS_KEY_PREFIX}:rate-limit:`
  app.decorate('sharedRateLimit', {
    usable: () => redis.usable(client),
    async add(batch, windowEndsAt) {
      const pipeline = client.pipeline()
      batch.keys.forEach((key, i) => {
        const name = `${prefix}${batch.window}:${key}`
        pipeline
          .incrby(name, batch.counts[i] as number)
          .pexpireat(name, windowEndsAt + EXPIRY_SLACK_MS)
      })
      const replies = (await redis.guard(() => pipeline.exec())) ?? []
      return batch.keys.map((_, i) => {
        const [error, total] = replies[i * 2] ?? [new Error('no reply')]
        if (error) throw error
        return Number(total)
      })
    },
  } satisfies SharedCounters)
}

export default fp(redisRateLimit, { name: 'redis-rate-limit', dependencies: ['redis'] })
