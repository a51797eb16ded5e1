import type { Server } from 'node:http'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, {
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyServerOptions,
} from 'fastify'
import type { Config } from './config.js'
import { loggerOptions } from './logger.js'
import type { MemoryPlan } from './memory.js'
import notes from './notes/index.js'
import { packageInfo } from './package-info.js'
import cache from './plugins/cache.js'
import cors from './plugins/cors.js'
import db from './plugins/db.js'
import errors from './plugins/errors.js'
import jsonBody from './plugins/json-body.js'
import leakGuard, { type LeakReport } from './plugins/leak-guard.js'
import loadShedding from './plugins/load-shedding.js'
import memoryBudget from './plugins/memory-budget.js'
import openapi from './plugins/openapi.js'
import probes from './plugins/probes.js'
import rateLimiting from './plugins/rate-limit.js'
import redis from './plugins/redis.js' // redis-only
import redisCache from './plugins/redis-cache.js' // redis-only
import redisRateLimit from './plugins/redis-rate-limit.js' // redis-only
import securityHeaders from './plugins/security-headers.js'
import workers from './plugins/workers.js'
import { RequestLog } from './request-log.js'
import { type CompileCounts, type CompileInput, routeCompilers } from './route-compilers.js'
import health from './routes/health.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    memoryPlan: MemoryPlan
    appVersion: string
    /** How many route schemas came from the build's precompiled code, and how many were compiled. */
    routeSchemas: CompileCounts
  }
}

export interface AppOptions {
  config: Config
  plan: MemoryPlan
  /** What to do when the leak guard fires; server.ts drains and exits. Default: log only. */
  onLeak?: (report: LeakReport) => void
  /** Overrides the logger (tests pass false or a stream). */
  logger?: FastifyServerOptions['logger']
  /** More plugins, registered after the infrastructure and the example (tests add routes). */
  plugins?: FastifyPluginAsync[]
  /** Glob of the SQL migrations applied at boot (default: every `migrations` folder in src). */
  migrations?: string
  /** Sees each route schema compiled at start (the build records them to precompile). */
  onCompile?: (input: CompileInput) => void
  /** The clock rate-limit windows are counted by (default Date.now; tests hold it still). */
  now?: () => number
}

const KEEP_ALIVE_TIMEOUT_MS = 120_000
const HEADERS_TIMEOUT_MS = KEEP_ALIVE_TIMEOUT_MS + 1_000
const REQUEST_TIMEOUT_MS = 300_000
const BODY_LIMIT_BYTES = 1024 * 1024
// Booting waits on the database: migrations may queue behind another instance's advisory lock,
// and the embedded PGlite's first start (initdb) takes seconds on a slow CPU. Fastify's 10 s
// default would abort a healthy start.
const PLUGIN_TIMEOUT_MS = 120_000

/** The same rule as Fastify's numeric trustProxy (trust the n nearest hops), with its types. */
function trustProxyHops(hops: number | false) {
  return hops === false ? false : (_address: string, hop: number) => hop < hops
}

/** Builds the Fastify instance with every plugin and route. Does not listen. */
export async function buildApp(options: AppOptions) {
  const { config, plan } = options
  const compilers = routeCompilers(undefined, options.onCompile)
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config),
    // Render's proxy keeps connections open for up to 120 s; a shorter idle timeout causes 502s.
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    bodyLimit: BODY_LIMIT_BYTES,
    pluginTimeout: PLUGIN_TIMEOUT_MS,
    // Only the proxies we know of may set the client address (rate limiting keys on it).
    trustProxy: trustProxyHops(config.trustProxy),
    return503OnClosing: true,
    schemaController: { compilersFactory: compilers.compilersFactory },
    // Cloudflare's ray id doubles as the request id, so every log line of a request carries it.
    requestIdHeader: 'cf-ray',
    logController: new RequestLog({
      sample: config.requestLogSample,
      slowMs: config.REQUEST_LOG_SLOW_MS,
    }),
  }).withTypeProvider<TypeBoxTypeProvider>()
  ;(app.server as Server).headersTimeout = HEADERS_TIMEOUT_MS

  app.decorate('config', config)
  app.decorate('memoryPlan', plan)
  app.decorate('appVersion', packageInfo().version)
  app.decorate('routeSchemas', compilers.counts)

  await app.register(errors)
  await app.register(jsonBody)
  await app.register(securityHeaders)
  await app.register(cors)
  await app.register(openapi)
  await app.register(probes)
  await app.register(loadShedding)
  await app.register(memoryBudget)
  await app.register(leakGuard, {
    onLeak:
      options.onLeak ??
      ((report) => app.log.error({ leak: report }, 'leak guard: heap stays high')),
  })
  await app.register(db, { migrations: options.migrations })
  await app.register(redis) // redis-only
  await app.register(redisCache) // redis-only
  await app.register(redisRateLimit) // redis-only
  await app.register(cache)
  await app.register(rateLimiting, options.now ? { now: options.now } : {})
  await app.register(workers)
  await app.register(health)
  await app.register(notes)
  for (const plugin of options.plugins ?? []) await app.register(plugin)
  return app
}

export type App = FastifyInstance & Awaited<ReturnType<typeof buildApp>>
