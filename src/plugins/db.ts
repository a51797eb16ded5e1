import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import pg from 'pg'
import { MIGRATE_APPLICATION_NAME, poolSettings } from '../db/connection.js'
import type { EmbeddedPostgres } from '../db/embedded.js'
import {
  DatabaseUnreachableError,
  type MigrateResult,
  MigrationError,
  migrate,
} from '../db/migrate.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The one Postgres pool. Routes pass it to store functions (src/notes/store.ts). */
    db: pg.Pool
  }
}

export interface DbOptions {
  /** Glob of the migrations to apply (default MIGRATIONS_PATTERN: every module's folder). */
  migrations?: string
}

/** Between attempts to reach Postgres at start-up: doubling from this, up to RETRY_MAX_MS. */
const RETRY_FIRST_MS = 250
const RETRY_MAX_MS = 5000

/**
 * Migrates once Postgres can be reached. At start-up a refused or timed-out connection is tried
 * again — a database still starting, a name not yet resolvable, or this process waiting for its
 * CPU slice at 0.1 CPU when the connect timer fired — until DB_STARTUP_RETRY_MS has passed; any
 * other error (authentication, a missing database, a failed migration) ends the start at once.
 */
async function migrateWhenReachable(
  app: FastifyInstance,
  run: () => Promise<MigrateResult>,
): Promise<MigrateResult> {
  const budgetMs = app.config.DB_STARTUP_RETRY_MS
  const started = Date.now()
  let delay = RETRY_FIRST_MS
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await run()
      if (attempt > 1) app.log.info({ attempts: attempt }, 'postgres reachable; start continues')
      return result
    } catch (error) {
      if (!(error instanceof DatabaseUnreachableError)) throw error
      const elapsed = Date.now() - started
      if (elapsed + delay > budgetMs) {
        throw new Error(
          `${error.message} (postgres unreachable for ${Math.round(elapsed / 1000)} s, ${attempt} attempts; DB_STARTUP_RETRY_MS=${budgetMs})`,
          { cause: error },
        )
      }
      app.log.warn(
        { attempt, retryInMs: delay, err: error.cause },
        `postgres not reachable yet (${error.message}); retrying until DB_STARTUP_RETRY_MS=${budgetMs} has passed`,
      )
      await sleep(delay)
      delay = Math.min(delay * 2, RETRY_MAX_MS)
    }
  }
}

/**
 * The embedded Postgres module. Its packages are development dependencies (a deploy prunes them),
 * so without them this is one error that says what to do, instead of a module resolution trace.
 */
async function importEmbedded() {
  try {
    return await import('../db/embedded.js')
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException
    if (code === 'ERR_MODULE_NOT_FOUND' && message.includes('@electric-sql/pglite')) {
      throw new Error(
        'DATABASE_URL is unset, so the app would start the embedded Postgres, but PGlite (@electric-sql/pglite and @electric-sql/pglite-socket, development dependencies) is not installed: set DATABASE_URL, or install the development dependencies (npm install)',
        { cause: error },
      )
    }
    throw error
  }
}

/**
 * Postgres: migrates at boot (under an advisory lock), then owns one pg.Pool from creation to
 * onClose. Without DATABASE_URL (never in production: config refuses it) it starts the embedded
 * PGlite and points the same pool at it.
 */
async function db(app: FastifyInstance, options: DbOptions) {
  const { config } = app
  let embedded: EmbeddedPostgres | undefined
  let url = config.DATABASE_URL
  if (url === undefined) {
    if (config.isProduction) throw new Error('DATABASE_URL is required in production')
    const { startEmbedded } = await importEmbedded()
    embedded = await startEmbedded({ dataDir: config.PGLITE_DATA_DIR })
    url = embedded.url
    app.log.info(
      { dataDir: embedded.dataDir },
      `embedded Postgres (PGlite) in use, data in ${embedded.dataDir}; set DATABASE_URL=postgres://user:password@host:5432/dbname to use a real Postgres`,
    )
  }
  const settings = poolSettings(config, url, { embedded: embedded !== undefined })

  try {
    const result = await migrateWhenReachable(app, () =>
      migrate(
        { ...settings.config, application_name: MIGRATE_APPLICATION_NAME },
        {
          pattern: options.migrations,
          onApplied: (file) => app.log.info({ migration: file }, `applied migration ${file}`),
        },
      ),
    )
    app.log.debug({ version: result.version }, 'database schema is current')
  } catch (error) {
    await embedded?.stop()
    if (error instanceof MigrationError) throw error
    throw new Error(`cannot migrate the database: ${(error as Error).message}`, { cause: error })
  }

  const pool = new pg.Pool(settings.config)
  // Without a listener, a connection the server drops while idle would crash the process.
  pool.on('error', (err) => {
    app.log.warn({ err }, 'postgres: an idle connection failed; the pool opens a new one on demand')
  })
  app.decorate('db', pool)

  app.probes.addReadiness('postgres', async () => {
    await pool.query('SELECT 1')
    return { status: 'up' }
  })
  app.probes.addStatus('postgres', () => ({
    total: pool.totalCount,
    idle: pool.idleCount,
    waiting: pool.waitingCount,
    settings: settings.summary,
  }))

  app.addHook('onClose', async () => {
    await pool.end()
    await embedded?.stop()
  })
}

export default fp(db, { name: 'db', dependencies: ['probes'] })
