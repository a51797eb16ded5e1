import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import tap, { type Test } from 'tap'
import { postgres } from './services.js'

/**
 * A fresh, empty database for one test, dropped when the test ends:
 *
 *   const { url } = await testDatabase(t)
 *
 * On the real Postgres (DATABASE_URL, else 127.0.0.1:5432/test) it is `CREATE DATABASE
 * ft_<random>`, so tests running in parallel never see each other's rows. When Postgres is not
 * reachable (and REQUIRE_SERVICES is not 1) it is an embedded PGlite in a temp dir instead, with
 * the reason printed. `buildTestApp` and `startServer` call this for you when no DATABASE_URL is
 * given.
 */
export interface TestDatabase {
  url: string
  name: string
  /** true: embedded PGlite fallback (one connection at a time), not a real server. */
  embedded: boolean
}

/** The URL of another database on the same server (same user, host, port, options). */
export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${name}`
  return parsed.toString()
}

let shared: Promise<string> | undefined

/**
 * The fallback: one embedded PGlite per test process (starting one per test would cost seconds
 * each), stopped when the process's tests end. Tests run one after another in a file, so each
 * gets an emptied public schema instead of a database of its own.
 */
function sharedEmbedded(): Promise<string> {
  shared ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'freetier-pglite-'))
    const { startEmbedded } = await import('../../src/db/embedded.js')
    const embedded = await startEmbedded({ dataDir: dir, maxConnections: 16 })
    tap.teardown(async () => {
      await embedded.stop()
      await rm(dir, { recursive: true, force: true })
    })
    return embedded.url
  })()
  return shared
}

export async function testDatabase(t: Test): Promise<TestDatabase> {
  const service = await postgres()
  if (service.url) {
    const name = `ft_${randomBytes(6).toString('hex')}`
    await admin(service.url, `CREATE DATABASE ${name}`)
    t.teardown(() => admin(service.url as string, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
    return { url: withDatabase(service.url, name), name, embedded: false }
  }
  t.comment(`${service.skip}: using embedded PGlite for this test`)
  const url = await sharedEmbedded()
  await admin(url, 'DROP SCHEMA public CASCADE; CREATE SCHEMA public')
  return { url, name: 'postgres', embedded: true }
}

let perProcess: Promise<TestDatabase> | undefined

/**
 * One database for every test of this file (process) that never looks at its rows (the worker
 * tests): `CREATE DATABASE` and a migration per test cost seconds on a busy machine.
 */
export function fileDatabase(): Promise<TestDatabase> {
  perProcess ??= testDatabase(tap)
  return perProcess
}

/**
 * For tests that need a real server (several sessions, pg_stat_activity, DROP DATABASE): skips
 * the test, saying why, when testDatabase fell back to PGlite. Returns true when skipped.
 */
export function skipIfEmbedded(t: Test, database: TestDatabase): boolean {
  if (!database.embedded) return false
  // plan(0, reason): tap reports the test as skipped, with the reason.
  t.plan(0, 'needs a real Postgres server; the embedded PGlite fallback is one session')
  return true
}

/** Runs one statement on its own short-lived connection (CREATE/DROP DATABASE, checks). */
export async function admin<R extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  sql: string,
  values?: unknown[],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, application_name: 'freetier-test' })
  client.on('error', () => {})
  await client.connect()
  try {
    return (await client.query<R>(sql, values)).rows
  } finally {
    await client.end()
  }
}
