import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import closeWithGrace from 'close-with-grace'
import { type AppOptions, buildApp } from './app.js'
import { loadConfigOrExit } from './config-or-exit.js'
import { logsWritten } from './logger.js'
import { describePlan, planMemory, readLimitInputs } from './memory.js'

/**
 * The post-start GC. From Node 22 (V8 12) the last-resort flavour also shrinks the young
 * generation, which boot grew to its maximum (16 MB with an 8 MB semi-space), and hands freed
 * pages back: ~20 MB less idle RSS on Node 24. Node 20's V8 has no such option: a plain full GC.
 */
const POST_START_GC =
  Number(process.versions.node.split('.')[0]) >= 22
    ? { type: 'major', execution: 'sync', flavor: 'last-resort' }
    : undefined

/** The post-start GC waits for this long without a request. */
const POST_START_GC_IDLE_MS = 1000

/** Longest wait at exit for log lines still on their way to a full stdout pipe. */
const LOG_DRAIN_MS = 5000

/** Exit code after the leak guard drained the process: non-zero so the platform restarts it. */
export const EXIT_CODE_LEAK = 75

/**
 * The process: config -> app -> listen -> graceful shutdown. Runs when this file is the entry
 * (the bootstrap, `npm run dev`); test/fixtures/server.ts calls it with test-only routes added.
 */
export async function start(options: Pick<AppOptions, 'plugins' | 'migrations'> = {}) {
  const config = loadConfigOrExit()
  const plan = planMemory(readLimitInputs(config.MEMORY_LIMIT_MB))
  let exitCode = 0

  const app = await buildApp({
    config,
    plan,
    plugins: options.plugins,
    migrations: options.migrations,
    onLeak: (report) => {
      app.log.fatal(
        { leak: report },
        'leak guard: heap stayed above its threshold after full GCs; draining and exiting for a clean restart',
      )
      exitCode = EXIT_CODE_LEAK
      void grace.close()
    },
  }).catch((error: Error) => {
    // e.g. a failed migration: one line naming the file and the database's message, then exit 1.
    process.stderr.write(`freetier: cannot start: ${error.message}\n`)
    process.exit(1)
  })

  const grace = closeWithGrace(
    { delay: config.SHUTDOWN_TIMEOUT_MS, logger: { error: (m: unknown) => app.log.error(m) } },
    async ({ signal, err }) => {
      if (err) app.log.error({ err }, 'closing after an uncaught error')
      else app.log.info({ signal }, 'shutting down: draining in-flight requests')
      await app.close()
      app.log.info('closed')
      // close-with-grace exits next: the lines still on their way to stdout go first.
      await logsWritten(app.log, LOG_DRAIN_MS)
      if (exitCode !== 0) process.exit(exitCode)
    },
  )

  app.log.info({ plan }, describePlan(plan))
  for (const warning of plan.warnings) app.log.warn(warning)

  await app.listen({
    host: config.host,
    port: config.PORT,
    listenTextResolver: (a) => `listening on ${a}`,
  })

  // Warm the request path once, then drop start-up garbage so idle RSS starts low, once the
  // server has had no request for a moment: the full GC costs ~100 ms of CPU, a second at 0.1
  // CPU, which the first visitor after a cold start should not wait for.
  await app.inject({ method: 'GET', url: '/healthz' })
  const gc = (globalThis as { gc?: (options?: object) => void }).gc
  if (gc) {
    const onRequest = () => idle.refresh()
    const idle = setTimeout(() => {
      app.server.off('request', onRequest)
      gc(POST_START_GC)
      const { rss, heapUsed } = process.memoryUsage()
      app.log.info(
        {
          rssMb: Math.round(rss / 1048576),
          heapUsedMb: Math.round(heapUsed / 1048576),
          routeSchemas: app.routeSchemas,
        },
        'ready (after post-start gc)',
      )
    }, POST_START_GC_IDLE_MS).unref()
    app.server.on('request', onRequest)
  } else {
    app.log.info({ routeSchemas: app.routeSchemas }, 'ready')
  }
}

const entry = process.argv[1]
if (entry !== undefined && realpathSync(entry) === fileURLToPath(import.meta.url)) await start()
