import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Coherence, DEFAULT_TIMING } from '../cache/redis-coherence.js'
import { RedisL2 } from '../cache/redis-l2.js'
import type { InvalidationMessage, SharedTier, SharedTierFactory } from '../cache/shared.js'

/** How often lost invalidations are retried (clearing the namespace in Redis). */
const RECOVER_INTERVAL_MS = 1000
/** Retrying a SUBSCRIBE that failed (e.g. timed out while this process waited for CPU). */
const SUBSCRIBE_RETRY_MIN_MS = 100
const SUBSCRIBE_RETRY_MAX_MS = 2000
/**
 * A subscription still failing after this long is logged as a warning. Sooner it is logged at
 * info: at start a SUBSCRIBE can time out only because the process, throttled, got to its reply
 * late (at 0.1 CPU the boot's last second of CPU is ten of wall time), and the retry makes it.
 */
export const SUBSCRIBE_WARN_AFTER_MS = 5000

type Message = InvalidationMessage & { from: string }

/**
 * The cache's shared tier on Redis: L2 (shared by instances), an invalidation channel every
 * instance listens on, and the coherence that keeps both honest across outages
 * (src/cache/redis-coherence.ts, docs/cache.md). A Redis failure is a cache miss, never an
 * error. Without REDIS_URL it provides nothing and the cache is L1 only.
 */
async function redisCache(app: FastifyInstance) {
  const { config, redis } = app
  if (!redis) return
  const factory: SharedTierFactory = ({ namespaces, l1 }) => {
    const command = redis.open('cache')
    const subscriber = redis.open('invalidation')
    const store = new RedisL2(command, redis)
    const channel = `${config.REDIS_KEY_PREFIX}:invalidate`
    const coherence = new Coherence({
      ...DEFAULT_TIMING,
      commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
      client: command,
      connections: redis,
      namespaces: () => namespaces().map((ns) => ns.name),
      epochKey: (ns) => store.epochKey(ns),
      dirty: () => namespaces().some((ns) => ns.l2Dirty),
      clearL1: (ns) => l1?.clear(ns),
      clearL2: async () => {
        for (const ns of namespaces()) await ns.clearEverywhere()
      },
    })
    let subscribedBefore = false
    const subscribeCounts = { attempts: 0, failures: 0 }

    subscriber.on('message', (from: string, text: string) => {
      if (from !== channel) return
      let message: Message
      try {
        message = JSON.parse(text) as Message
      } catch {
        return
      }
      if (message.from === redis.instanceId) return
      namespaces()
        .find((ns) => ns.name === message.namespace)
        ?.applyLocally(message)
      if (message.epoch !== undefined) coherence.heard(message.namespace, message.epoch)
    })
    // Retried until it succeeds for as long as the connection is up: a SUBSCRIBE that times
    // out (a throttled process at start) must not leave L1 degraded until the next reconnect.
    const subscribe = async () => {
      let failingSince: number | undefined
      for (let attempt = 0; subscriber.status === 'ready'; attempt++) {
        subscribeCounts.attempts++
        try {
          await subscriber.subscribe(channel)
          // Messages sent while this instance was not listening are lost: start L1 afresh.
          if (subscribedBefore) l1?.clear()
          subscribedBefore = true
          coherence.channelUp = true
          return
        } catch (error) {
          subscribeCounts.failures++
          failingSince ??= performance.now()
          const level =
            performance.now() - failingSince >= SUBSCRIBE_WARN_AFTER_MS ? 'warn' : 'info'
          app.log[level](
            { err: error, attempt },
            'cache: cannot subscribe to invalidations; retrying',
          )
          const delay = Math.min(SUBSCRIBE_RETRY_MIN_MS * 2 ** attempt, SUBSCRIBE_RETRY_MAX_MS)
          await new Promise((resolve) => setTimeout(resolve, delay).unref())
        }
      }
    }
    subscriber.on('ready', () => {
      subscribe().catch(() => {})
    })
    subscriber.on('close', () => {
      coherence.channelUp = false
    })
    const recoverAll = () => {
      for (const ns of namespaces()) {
        ns.recover().catch((error: Error) =>
          app.log.debug({ err: error, namespace: ns.name }, 'cache: redis not clear yet'),
        )
      }
    }
    command.on('ready', recoverAll)
    const checks = setInterval(() => coherence.check(), DEFAULT_TIMING.checkMs).unref()
    const timer = setInterval(() => {
      recoverAll()
      // An idle subscriber would not notice a hung server; a ping arms its socket timeout.
      if (subscriber.status === 'ready') subscriber.ping().catch(() => {})
    }, RECOVER_INTERVAL_MS).unref()
    app.addHook('onReady', async () => {
      await coherence.check()
    })
    app.addHook('onClose', async () => {
      clearInterval(checks)
      clearInterval(timer)
      // Peers forget this instance at once instead of distrusting their caches until they
      // forget it.
      await coherence.leave().catch(() => {})
    })

    const tier: SharedTier = {
      store,
      publish: async (message) => {
        const payload = JSON.stringify({ ...message, from: redis.instanceId })
        await redis.guard(() => command.publish(channel, payload))
      },
      trust: coherence,
      status: () => ({
        l2: { maxValueBytes: config.CACHE_L2_MAX_VALUE_BYTES },
        invalidation: coherence.channelUp ? 'subscribed' : 'down',
        coherence: { ...coherence.stats(), subscribe: subscribeCounts },
      }),
    }
    return tier
  }
  app.decorate('sharedCache', factory)
}

export default fp(redisCache, { name: 'redis-cache', dependencies: ['redis'] })
