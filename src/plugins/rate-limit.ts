import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { clientKey } from '../rate-limit/client-key.js'
import { type Batch, WindowCounters } from '../rate-limit/counter.js'
import { hookFirst } from '../route-hooks.js'

/** Routes under this prefix are limited; everything else (/healthz, /readyz, /status) never. */
export const LIMITED_PREFIX = '/api'
/** Distinct clients the counters remember per window. */
const LOCAL_CLIENTS = 10_000
const limited = (url: string) => url === LIMITED_PREFIX || url.startsWith(`${LIMITED_PREFIX}/`)

/**
 * Counters every instance shares. The limiter works without them (counting in memory); a plugin
 * that provides them (src/plugins/redis-rate-limit.ts) decorates `sharedRateLimit` before this
 * one is registered.
 */
export interface SharedCounters {
  /** False while the store cannot be reached: the counts stay in memory meanwhile. */
  usable(): boolean
  /**
   * Adds each key's count to its counter for the batch's window, kept until `windowEndsAt`
   * (ms since the epoch) at least, and answers the new totals in the batch's order. Rejects when
   * the store cannot answer.
   */
  add(batch: Batch, windowEndsAt: number): Promise<number[]>
}

export interface RateLimit {
  /** Adds the counts made since the last sync to the shared counters and adopts their totals. */
  sync(): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    sharedRateLimit?: SharedCounters
    rateLimit: RateLimit
  }
}

export interface RateLimitOptions {
  /** The clock windows are counted by, in ms since the epoch (default Date.now). */
  now?: () => number
}

/**
 * Rate limiting on the API: RATE_LIMIT_MAX requests per RATE_LIMIT_WINDOW per client address
 * (request.ip, which only trusted proxy hops can set). A request costs a counter update in
 * memory, never a round trip: with shared counters (Redis, with REDIS_URL) each instance adds
 * what it counted every RATE_LIMIT_SYNC_MS and adopts the totals, which include the other
 * instances' requests. So across instances the limit holds within what the others admitted
 * since their last sync; with the store down or absent it holds per instance, and nothing
 * waits on the store either way.
 */
async function rateLimiting(app: FastifyInstance, options: RateLimitOptions) {
  const { config, sharedRateLimit: shared } = app
  const counters = new WindowCounters(
    config.RATE_LIMIT_MAX,
    config.rateLimitWindowMs,
    LOCAL_CLIENTS,
    options.now,
  )
  const max = String(config.RATE_LIMIT_MAX)
  const windowText = `${Math.ceil(config.rateLimitWindowMs / 1000)} seconds`

  let syncing: Promise<void> | undefined
  let timer: NodeJS.Timeout | undefined
  const sync = (): Promise<void> => {
    syncing ??= (async () => {
      // Store unusable: the counts stay here (the limit holds locally) until it is back.
      if (!shared?.usable()) return
      const batch = counters.takeBatch()
      if (!batch) return
      const totals = await shared.add(batch, counters.windowEnd(batch)).catch(() => undefined)
      counters.settle(batch, totals)
    })().finally(() => {
      syncing = undefined
    })
    return syncing
  }
  // Armed by a request, so an idle process has no timer waking it up.
  const scheduleSync = () => {
    if (timer !== undefined || !shared) return
    timer = setTimeout(() => {
      timer = undefined
      void sync()
    }, config.RATE_LIMIT_SYNC_MS)
    timer.unref()
  }

  const limit: onRequestHookHandler = (
    request: FastifyRequest,
    reply: FastifyReply,
    done: () => void,
  ) => {
    const hit = counters.hit(clientKey(request.ip))
    scheduleSync()
    const resetSeconds = Math.ceil(hit.resetInMs / 1000)
    reply.header('x-ratelimit-limit', max)
    reply.header('x-ratelimit-remaining', hit.remaining)
    reply.header('x-ratelimit-reset', resetSeconds)
    if (!hit.limited) return done()
    reply
      .code(429)
      .header('retry-after', resetSeconds)
      .send({
        statusCode: 429,
        error: 'Too Many Requests',
        message: `Rate limit exceeded: ${max} requests per ${windowText}; retry in ${resetSeconds} seconds`,
      })
  }

  app.addHook('onRoute', (route) => {
    if (limited(route.url)) route.onRequest = hookFirst(route.onRequest, limit)
  })
  app.decorate('rateLimit', { sync } satisfies RateLimit)
  app.probes.addStatus('rateLimit', () => ({
    max: config.RATE_LIMIT_MAX,
    windowMs: config.rateLimitWindowMs,
    shared: shared !== undefined,
    syncIntervalMs: shared ? config.RATE_LIMIT_SYNC_MS : undefined,
    clients: counters.size,
  }))
  app.addHook('onClose', async () => {
    clearTimeout(timer)
    await syncing
  })
}

export default fp(rateLimiting, { name: 'rate-limit', dependencies: ['probes'] })
