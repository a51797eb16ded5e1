import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { RedisL2 } from '../cache/redis-l2.js'
import type { InvalidationMessage, SharedTier, SharedTierFactory } from '../cache/shared.js'

/**
 * While the invalidation channel is down, another instance's writes cannot reach this L1, so
 * its entries are served for at most this long after they were stored.
 */
export const DEGRADED_L1_MAX_AGE_MS = 5000
/** How often lost invalidations are retried (clearing the namespace in Redis). */
const RECOVER_INTERVAL_MS = 1000

type Message = InvalidationMessage & { from: string }

/**
 * The cache's shared tier on Redis: L2 (shared by instances) plus an invalidation channel every
 * instance listens on. A Redis failure is a cache miss, never an error. Without REDIS_URL it
 * provides nothing and the cache is L1 only.
 */
async function redisCache(app: FastifyInstance) {
  const { config, redis } = app
  if (!redis) return
  const factory: SharedTierFactory = ({ namespaces, l1 }) => {
    const command = redis.open('cache')
    const subscriber = redis.open('invalidation')
    const store = new RedisL2(command, redis)
    const channel = `${config.REDIS_KEY_PREFIX}:invalidate`
    let channelUp = false
    let subscribedBefore = false

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
    })
    subscriber.on('ready', () => {
      subscriber.subscribe(channel).then(
        () => {
          // Messages sent while this instance was not listening are lost: start L1 afresh.
          if (subscribedBefore) l1?.clear()
          subscribedBefore = true
          channelUp = true
        },
        (error: Error) => app.log.warn({ err: error }, 'cache: cannot subscribe to invalidations'),
      )
    })
    subscriber.on('close', () => {
      channelUp = false
    })
    const recoverAll = () => {
      for (const ns of namespaces()) {
        ns.recover().catch((error: Error) =>
          app.log.debug({ err: error, namespace: ns.name }, 'cache: redis not clear yet'),
        )
      }
    }
    command.on('ready', recoverAll)
    const timer = setInterval(() => {
      recoverAll()
      // An idle subscriber would not notice a hung server; a ping arms its socket timeout.
      if (subscriber.status === 'ready') subscriber.ping().catch(() => {})
    }, RECOVER_INTERVAL_MS).unref()
    app.addHook('onClose', async () => clearInterval(timer))

    const tier: SharedTier = {
      store,
      publish: async (message) => {
        const payload = JSON.stringify({ ...message, from: redis.instanceId })
        await redis.guard(() => command.publish(channel, payload))
      },
      l1MaxAgeMs: () => (channelUp ? Number.POSITIVE_INFINITY : DEGRADED_L1_MAX_AGE_MS),
      status: () => ({
        l2: { maxValueBytes: config.CACHE_L2_MAX_VALUE_BYTES },
        invalidation: channelUp ? 'subscribed' : 'down',
      }),
    }
    return tier
  }
  app.decorate('sharedCache', factory)
}

export default fp(redisCache, { name: 'redis-cache', dependencies: ['redis'] })
