import { basename, join } from 'node:path'
import pg from 'pg'
import Postgrator from 'postgrator'
import { packageInfo } from '../package-info.js'

/** Glob characters in a directory name are literal, not patterns (postgrator globs the path). */
export const escapeGlob = (path: string) => path.replace(/[?*()[\]{}!+@]/g, '\\$&')

/**
 * Where the SQL files are, resolved from the package root: each module keeps its own in a
 * `migrations` folder (src/notes/migrations). Versions are global: a new file takes the next
 * number after the highest in any module. tsc does not copy .sql files into dist, so the
 * compiled code reads them from src in both dev and production.
 */
export const MIGRATIONS_PATTERN = `${escapeGlob(join(packageInfo().root, 'src'))}/**/migrations/*.sql`
/** Postgrator's bookkeeping table: one row per applied migration, with its checksum. */
export const SCHEMA_TABLE = 'schema_migrations'
/** pg_advisory_lock key: one instance migrates at a time, per database. ('free' in ASCII.) */
export const MIGRATION_LOCK_KEY = 0x66726565

/** Connection failures worth another try at start-up: nothing answered yet, or not yet ready. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  '57P03', // the database system is starting up
  '53300', // too many connections
])

export function isTransientConnectError(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string }
  if (code !== undefined) return TRANSIENT_CODES.has(code)
  // pg's own connectionTimeoutMillis and a server that hung up during the handshake.
  return /timeout|terminated unexpectedly/i.test(message ?? '')
}

/**
 * The database could not be reached (yet): refused, timed out, starting up. Authentication,
 * a missing database or a TLS failure are not this: retrying would not help.
 */
export class DatabaseUnreachableError extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause })
    this.name = 'DatabaseUnreachableError'
  }
}

/** A migration that failed: names the file and carries the database's own message. */
export class MigrationError extends Error {
  constructor(
    readonly file: string | undefined,
    readonly dbMessage: string,
    options?: { cause?: unknown },
  ) {
    super(
      file ? `migration ${file} failed: ${dbMessage}` : `migrations failed: ${dbMessage}`,
      options,
    )
    this.name = 'MigrationError'
  }
}

export interface MigrateResult {
  /** File names applied by this call (empty when another instance or an earlier run did it). */
  applied: string[]
  version: number
}

/**
 * Applies every pending migration under a Postgres advisory lock, so instances starting together
 * apply each file exactly once: the first takes the lock and migrates, the others wait, then find
 * nothing left to do. Uses its own connection: no statement_timeout cuts a long migration or the
 * wait for the lock. Each file runs as one simple-protocol query, so it is one transaction.
 */
export async function migrate(
  clientConfig: pg.ClientConfig,
  options: { pattern?: string; onApplied?: (file: string) => void } = {},
): Promise<MigrateResult> {
  const client = new pg.Client({
    ...clientConfig,
    statement_timeout: undefined,
    query_timeout: undefined,
  })
  // A connection dropped mid-migration rejects the running query; without a listener the
  // client's 'error' event would crash the process instead.
  client.on('error', () => {})
  try {
    await client.connect()
  } catch (error) {
    if (isTransientConnectError(error)) throw new DatabaseUnreachableError(error as Error)
    throw error
  }
  let current: string | undefined
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY])
    const postgrator = new Postgrator({
      driver: 'pg',
      migrationPattern: options.pattern ?? MIGRATIONS_PATTERN,
      schemaTable: SCHEMA_TABLE,
      execQuery: (sql) => client.query(sql),
    })
    postgrator.on('migration-started', (m) => {
      current = basename(m.filename)
    })
    postgrator.on('migration-finished', (m) => {
      current = undefined
      options.onApplied?.(basename(m.filename))
    })
    const applied = await postgrator.migrate()
    return {
      applied: applied.map((m) => basename(m.filename)),
      version: await postgrator.getDatabaseVersion(),
    }
  } catch (error) {
    throw new MigrationError(current, (error as Error).message, { cause: error })
  } finally {
    // Ending the session releases the advisory lock too, even if the unlock cannot be sent.
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {})
    await client.end().catch(() => {})
  }
}
