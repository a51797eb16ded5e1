import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { type StoreCtor, storeRequire } from './rate-limit.js'

const RedisStore = storeRequire('@fastify/rate-limit/store/RedisStore.js') as StoreCtor

/**
 * Rate-limit counters in Redis, so every instance shares them, behind the connection factory's
 * circuit breaker. Without REDIS_URL it provides nothing and the limiter counts in memory.
 */
async function redisRateLimit(app: FastifyInstance) {
  const { config, redis } = app
  if (!redis) return
  const client = redis.open('rate-limit')
  const store = new RedisStore(false, false, client, `${config.REDIS_KEY_PREFIX}:rate-limit:`)
  app.decorate('sharedRateLimit', {
    usable: () => redis.usable(client),
    incr: (key: string, timeWindow: number, max: number) =>
      redis.guard(
        () =>
          new Promise<{ current: number; ttl: number }>((resolve, reject) =>
            store.incr(
              key,
              (error, result) => (error || !result ? reject(error) : resolve(result)),
              timeWindow,
              max,
            ),
          ),
      ),
  })
}

export default fp(redisRateLimit, { name: 'redis-rate-limit', dependencies: ['redis'] })
