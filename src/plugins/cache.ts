import type { FastifyInstance, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import { L1Store } from '../cache/l1.js'
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
 * The two-tier cache: L1 (lru-cache in the process, bounded by the memory plan's cache bytes)
 * and, when a shared tier is registered before it (Redis: src/plugins/redis-cache.ts), L2 shared
 * by instances plus invalidations every instance hears. A shared-tier failure is a cache miss,
 * never an error.
 */
async function cache(app: FastifyInstance) {
  const { config } = app
  const l1 = config.CACHE_L1 ? new L1Store(app.memoryPlan.cacheBytes) : null
  const shared = app.sharedCache?.({ namespaces: () => all, l1 })
  const make = (name: string, ttlSeconds: number) =>
    new CacheNamespace({
      name,
      ttlSeconds,
      l1,
      l2: shared?.store ?? null,
      l2MaxValueBytes: config.CACHE_L2_MAX_VALUE_BYTES,
      trust: shared?.trust ?? null,
      publish: async (message) => shared?.publish(message),
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

  app.probes.addStatus('cache', () => ({
    l1: l1 ? { maxBytes: l1.maxBytes, bytes: l1.bytes } : { enabled: false },
    ...(shared?.status() ?? { l2: { enabled: false }, invalidation: 'local' }),
    namespaces: Object.fromEntries(all.map((ns) => [ns.name, ns.stats()])),
  }))
}

export default fp(cache, { name: 'cache', dependencies: ['probes'] })
