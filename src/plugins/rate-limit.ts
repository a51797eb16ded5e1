import { createRequire } from 'node:module'
import rateLimit, { type FastifyRateLimitStore } from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

type IncrCallback = Parameters<FastifyRateLimitStore['incr']>[1]
type StoreCtor = new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  ...rest: unknown[]
) => FastifyRateLimitStore

// The plugin's own stores are not exported; they are its documented building blocks.
const require = createRequire(import.meta.url)
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as StoreCtor
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as StoreCtor

/** Routes under this prefix are limited; everything else (/healthz, /readyz, /status) never. */
export const LIMITED_PREFIX = '/api'
/** Distinct clients the in-memory counters remember. */
const LOCAL_CLIENTS = 10_000

const limited = (url: string) => url === LIMITED_PREFIX || url.startsWith(`${LIMITED_PREFIX}/`)

/**
 * Rate limiting on the API: RATE_LIMIT_MAX requests per RATE_LIMIT_WINDOW per client address
 * (request.ip, which only trusted proxy hops can set). Counters live in Redis when it is
 * configured, so every instance shares them; while Redis is unavailable (circuit open, not
 * connected) the same limit is counted in memory instead, so an outage neither fails requests
 * nor lifts the limit.
 */
async function rateLimiting(app: FastifyInstance) {
  const { config, redis } = app
  const client = redis?.open('rate-limit')
  const local = new LocalStore(false, false, LOCAL_CLIENTS)
  const shared = client
    ? new RedisStore(false, false, client, `${config.REDIS_KEY_PREFIX}:rate-limit:`)
    : undefined

  class Store implements FastifyRateLimitStore {
    incr(key: string, callback: IncrCallback, timeWindow: number, max: number) {
      if (!redis || !client || !shared || !redis.usable(client)) {
        local.incr(key, callback, timeWindow, max)
        return
      }
      redis
        .guard(
          () =>
            new Promise<{ current: number; ttl: number }>((resolve, reject) =>
              shared.incr(
                key,
                (error, result) => (error || !result ? reject(error) : resolve(result)),
                timeWindow,
                max,
              ),
            ),
        )
        .then(
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

export default fp(rateLimiting, { name: 'rate-limit', dependencies: ['redis'] })
