import type { FastifyInstance, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import { L1Store } from '../cache/l1.js'
import { type Invalidation, RedisL2 } from '../cache/l2.js'
import { type Cached, CacheNamespace } from '../cache/namespace.js'

export type { Cached, CacheSource, LoadOptions } from '../cache/namespace.js'

export interface Cache {
  /** Rendered output (CACHE_VIEWS_TTL). */
  views: CacheNamespace
  /** Query results (CACHE_QUERIES_TTL). */
  queries: CacheNamespace
}

declare module 'fastify' {
  interface FastifyInstance {
    cache: Cache
  }
  interface FastifyReply {
    /**
     * The text to cache for `value`: what this route's response schema makes of it (for the
     * reply's status, 200 unless set), i.e. exactly what Fastify would have sent.
     */
    cacheText(value: unknown): string
    /**
     * Sends a cached value's text as it is (no serializer runs: it was made by the route's
     * `reply.serialize` when loaded), with `x-cache` and, unless the route set one, the JSON
     * content type.
     */
    sendCached(cached: Cached): FastifyReply
  }
}

const JSON_TYPE = 'application/json; charset=utf-8'

function cacheText(this: FastifyReply, value: unknown): string {
  const text = this.serialize(value)
  if (typeof text !== 'string') throw new TypeError('a cached value must serialize to a string')
  return text
}

function sendCached(this: FastifyReply, cached: Cached): FastifyReply {
  this.header('x-cache', cached.source)
  // Fastify sends a string as it is when the content type says JSON; without one, it would
  // call it text/plain.
  if (!this.hasHeader('content-type')) this.type(JSON_TYPE)
  return this.send(cached.text)
}

/**
 * While the invalidation channel is down, another instance's writes cannot reach this L1, so
 * its entries are served for at most this long after they were stored.
 */
export const DEGRADED_L1_MAX_AGE_MS = 5000
/** How often lost invalidations are retried (clearing the namespace in Redis). */
const RECOVER_INTERVAL_MS = 1000

type Message = Invalidation & { from: string; namespace: string; all?: boolean }

/**
 * The two-tier cache: L1 (lru-cache in the process, bounded by the memory plan's cache bytes)
 * and, with Redis, L2 (shared by instances) plus an invalidation channel every instance listens
 * on. A Redis failure is a cache miss, never an error.
 */
async function cache(app: FastifyInstance) {
  const { config, redis } = app
  const l1 = config.CACHE_L1 ? new L1Store(app.memoryPlan.cacheBytes) : null
  const command = redis?.open('cache')
  const subscriber = redis?.open('invalidation')
  const l2 = redis && command ? new RedisL2(command, redis) : null
  const channel = `${config.REDIS_KEY_PREFIX}:invalidate`
  let channelUp = false

  const publish = async (message: Omit<Message, 'from'>) => {
    if (!redis || !command) return
    const payload = JSON.stringify({ ...message, from: redis.instanceId })
    await redis.guard(() => command.publish(channel, payload))
  }
  const make = (name: string, ttlSeconds: number) =>
    new CacheNamespace({
      name,
      ttlSeconds,
      l1,
      l2,
      l2MaxValueBytes: config.CACHE_L2_MAX_VALUE_BYTES,
      l1MaxAgeMs: () => (redis && !channelUp ? DEGRADED_L1_MAX_AGE_MS : Number.POSITIVE_INFINITY),
      publish,
      log: app.log,
    })
  const namespaces: Cache = {
    views: make('views', config.CACHE_VIEWS_TTL),
    queries: make('queries', config.CACHE_QUERIES_TTL),
  }
  app.decorate('cache', namespaces)
  app.decorateReply('cacheText', cacheText)
  app.decorateReply('sendCached', sendCached)
  const all = Object.values(namespaces) as CacheNamespace[]

  if (redis && command && subscriber) {
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
      all.find((ns) => ns.name === message.namespace)?.applyLocally(message)
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
      for (const ns of all) {
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
  }

  app.probes.addStatus('cache', () => ({
    l1: l1 ? { maxBytes: l1.maxBytes, bytes: l1.bytes } : { enabled: false },
    l2: redis ? { maxValueBytes: config.CACHE_L2_MAX_VALUE_BYTES } : { enabled: false },
    invalidation: redis ? (channelUp ? 'subscribed' : 'down') : 'local',
    namespaces: Object.fromEntries(all.map((ns) => [ns.name, ns.stats()])),
  }))
}

export default fp(cache, { name: 'cache', dependencies: ['probes', 'redis'] })
