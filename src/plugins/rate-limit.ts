import { createRequire } from 'node:module'
import rateLimit, { type FastifyRateLimitStore } from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

type IncrCallback = Parameters<FastifyRateLimitStore['incr']>[1]
export type StoreCtor = new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  ...rest: unknown[]
) => FastifyRateLimitStore

// The plugin's own stores are not exported; they are its documented building blocks.
export const storeRequire = createRequire(import.meta.url)
const LocalStore = storeRequire('@fastify/rate-limit/store/LocalStore.js') as StoreCtor

/**
 * Counters every instance shares. The limiter works without them (counting in memory); a plugin
 * that provides them (src/plugins/redis-rate-limit.ts) decorates `sharedRateLimit` before this
 * one is registered.
 */
export interface SharedCounters {
  /** False while the store cannot be reached: requests are counted in memory meanwhile. */
  usable(): boolean
  /** Counts one request of `key`; rejects when the store cannot answer. */
  incr(key: string, timeWindow: number, max: number): Promise<{ current: number; ttl: number }>
}

declare module 'fastify' {
  interface FastifyInstance {
    sharedRateLimit?: SharedCounters
  }
}

/** Routes under this prefix are limited; everything else (/healthz, /readyz, /status) never. */
export const LIMITED_PREFIX = '/api'
/** Distinct clients the in-memory counters remember. */
const LOCAL_CLIENTS = 10_000

const limited = (url: string) => url === LIMITED_PREFIX || url.startsWith(`${LIMITED_PREFIX}/`)

/**
 * Rate limiting on the API: RATE_LIMIT_MAX requests per RATE_LIMIT_WINDOW per client address
 * (request.ip, which only trusted proxy hops can set). Counters live in the shared store when
 * one is registered (Redis, with REDIS_URL), so every instance shares them; while it is
 * unavailable the same limit is counted in memory instead, so an outage neither fails requests
 * nor lifts the limit.
 */
async function rateLimiting(app: FastifyInstance) {
  const { config, sharedRateLimit: shared } = app
  const local = new LocalStore(false, false, LOCAL_CLIENTS)

  class Store implements FastifyRateLimitStore {
    incr(key: string, callback: IncrCallback, timeWindow: number, max: number) {
      if (!shared?.usable()) {
        local.incr(key, callback, timeWindow, max)
        return
      }
      shared.incr(key, timeWindow, max).then(
        (result) => callback(null, result),
        () => local.incr(key, callback, timeWindow, max),
      )
    }

    child() {
      return this
    }
  }

  // Exempt every route outside /api before the plugin's own onRoute hook sees it.
  app.addHook('onRoute', (route) => {
    if (!limited(route.url)) route.config = { ...route.config, rateLimit: false }
  })
  await app.register(rateLimit, {
    global: true,
    max: config.RATE_LIMIT_MAX,
    timeWindow: config.RATE_LIMIT_WINDOW,
    store: Store,
    skipOnError: true,
  })
}

export default fp(rateLimiting, { name: 'rate-limit' })
