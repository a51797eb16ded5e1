import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import t from 'tap'
import { type App, buildApp } from '../src/app.js'
import { poolSettings } from '../src/db/connection.js'
import { escapeGlob, MIGRATION_LOCK_KEY, MigrationError, migrate } from '../src/db/migrate.js'
import { isDataException, isUnavailable, query, toQueryError } from '../src/db/query.js'
import { DependencyUnavailableError, InvalidInputError } from '../src/errors.js'
import items, { ITEMS_MIGRATIONS } from './fixtures/items/index.js'
import { buildItemsApp, buildTestApp, putItem } from './helpers/app.js'
import { testConfig, testPlan } from './helpers/config.js'
import { admin, skipIfEmbedded, testDatabase } from './helpers/database.js'
import { captureLogs } from './helpers/logs.js'
import { waitFor } from './helpers/workers.js'

t.test('pool settings come from config; embedded means one connection', async (t) => {
  const config = testConfig({ PG_POOL_MAX: '7', PG_STATEMENT_TIMEOUT_MS: '2500' })
  const real = poolSettings(config, 'postgres://u@h/db?sslmode=require')
  t.match(real.config, {
    max: 7,
    idleTimeoutMillis: 300000,
    connectionTimeoutMillis: 5000,
    statement_timeout: 2500,
    query_timeout: 3500,
    application_name: 'freetier',
    keepAlive: true,
    ssl: { rejectUnauthorized: false },
  })
  t.match(real.summary, { max: 7, sslmode: 'require', embedded: false })
  t.notMatch(JSON.stringify(real.summary), /postgres:/, 'the summary never carries the URL')
  t.equal(poolSettings(config, 'postgres://h/db', { embedded: true }).config.max, 1)
})

t.test('outages are told apart from bad queries', async (t) => {
  const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code })
  for (const code of ['ECONNREFUSED', 'ECONNRESET', '57P01', '57014', '08006', '3D000', '53300']) {
    t.ok(isUnavailable(withCode(code)), code)
  }
  t.ok(isUnavailable(new Error('Connection terminated unexpectedly')))
  t.ok(isUnavailable(new Error('timeout exceeded when trying to connect')))
  t.ok(isUnavailable(new Error('Query read timeout')))
  t.ok(isUnavailable(new AggregateError([withCode('ECONNREFUSED')], '')), 'dual-stack connect')
  t.notOk(isUnavailable(withCode('23505', 'duplicate key')), 'a constraint is not an outage')
  t.notOk(isUnavailable(withCode('42P01', 'relation does not exist')))
  t.notOk(isUnavailable('a string'))
  t.type(toQueryError(withCode('ECONNREFUSED')), DependencyUnavailableError)
  const bad = withCode('42601', 'syntax error')
  t.equal(toQueryError(bad), bad)
})

t.test('a data exception from the database is a 400 naming the field, never a 500', async (t) => {
  const { url } = await testDatabase(t)
  const pool = new pg.Pool({ connectionString: url, max: 1 })
  // Teardown drops the database WITH (FORCE), which may end this pool's idle connection before
  // pool.end() does: an 'error' event no test here is about (it failed a CI run).
  pool.on('error', () => {})
  t.teardown(() => pool.end())
  const refused = async (sql: string, values: unknown[], fields: Parameters<typeof query>[3]) => {
    const error = await query(pool, sql, values, fields).then(
      () => undefined,
      (e: unknown) => e,
    )
    t.type(error, InvalidInputError, sql)
    return (error as InvalidInputError).validation[0]
  }
  // The value the message quotes decides the field, whatever its position.
  t.match(await refused('SELECT $1::int, $2::uuid', [1, 'urn:uuid:x'], [undefined, 'params/id']), {
    instancePath: '/id',
    keyword: 'sqlstate 22P02',
  })
  t.match(await refused('SELECT $1::text, $2::text', ['ok', 'a\0b'], ['body/title', 'body/body']), {
    instancePath: '/body',
    keyword: 'sqlstate 22021',
  })
  t.match(
    await refused('SELECT $1::timestamptz', ['2020-13-01T00:00:00Z'], ['querystring/cursor']),
    {
      instancePath: '/cursor',
    },
  )
  // Without names a data exception stays what it is; the error plugin still answers 400.
  const unnamed = await query(pool, 'SELECT $1::uuid', ['nope']).catch((e: unknown) => e)
  t.ok(isDataException(unnamed))
  t.notOk(isDataException(Object.assign(new Error('x'), { code: '23505' })))
})

/** Captures pino lines of an app built in-process. */
function logCapture() {
  const { lines, stream } = captureLogs()
  return { lines, logger: { level: 'info', stream } }
}

t.test('two instances migrating one empty database at once: one applies, both start', async (t) => {
  const database = await testDatabase(t)
  if (skipIfEmbedded(t, database)) return
  const { url } = database
  const config = testConfig({ DATABASE_URL: url })
  const captures = [logCapture(), logCapture()]
  const apps = await Promise.all(
    captures.map((c) =>
      buildApp({
        config,
        plan: testPlan(config),
        logger: c.logger,
        plugins: [items],
        migrations: ITEMS_MIGRATIONS,
      }),
    ),
  )
  for (const app of apps) t.teardown(() => app.close())
  await Promise.all(apps.map((app) => app.ready()))
  const applied = captures.flatMap((c) => c.lines).filter((l) => l.migration)
  t.same(
    applied.map((l) => l.migration),
    ['001.do.items.sql'],
    'exactly one instance applied the migration',
  )
  const rows = await admin(url, 'SELECT version FROM schema_migrations WHERE version > 0')
  t.same(rows, [{ version: '1' }])
  for (const [i, app] of apps.entries()) {
    t.match(await putItem(app as App, `k${i}`, 'v'), { key: `k${i}` }, 'both serve')
  }
})

t.test(
  'a failed migration names the file and the database message; nothing half-applied',
  async (t) => {
    const { url } = await testDatabase(t)
    const { mkdtemp, rm, writeFile } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const dir = await mkdtemp(join(tmpdir(), 'freetier-migrations-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    await writeFile(join(dir, '001.do.first.sql'), 'CREATE TABLE first (id int);')
    await writeFile(
      join(dir, '002.do.broken.sql'),
      'CREATE TABLE second (id int);\nINSERT INTO nowhere VALUES (1);',
    )
    const error = await migrate(
      { connectionString: url },
      { pattern: `${escapeGlob(dir)}/*.sql` },
    ).catch((e: unknown) => e)
    t.type(error, MigrationError)
    t.equal((error as MigrationError).file, '002.do.broken.sql')
    t.match(
      (error as Error).message,
      /^migration 002\.do\.broken\.sql failed: relation "nowhere" does not exist$/,
    )
    const tables = await admin<{ name: string }>(
      url,
      `SELECT table_name AS name FROM information_schema.tables
     WHERE table_schema = 'public' AND table_name IN ('first', 'second') ORDER BY 1`,
    )
    t.same(tables, [{ name: 'first' }], 'the failed file rolled back as a whole')
    const again = await migrate(
      { connectionString: url },
      { pattern: `${escapeGlob(dir)}/*.sql` },
    ).catch((e: unknown) => e)
    t.match((again as Error).message, /002\.do\.broken\.sql/, 'a retry resumes at the broken file')
  },
)

t.test('/status shows pool counts and settings; /readyz reports postgres', async (t) => {
  const app = await buildTestApp(t)
  const status = (await app.inject('/status')).json()
  t.match(status.postgres, {
    total: Number,
    idle: Number,
    waiting: 0,
    settings: { max: 5, idleTimeoutMillis: 300000, applicationName: 'freetier', embedded: false },
  })
  const ready = (await app.inject('/readyz')).json()
  t.match(ready.dependencies.postgres, { status: 'up', required: true })
})

t.test(
  'the pool never opens more than PG_POOL_MAX connections under 100 concurrent requests',
  async (t) => {
    const database = await testDatabase(t)
    if (skipIfEmbedded(t, database)) return
    const { url, name } = database
    // No cache tier, and a distinct page per request (single flight would merge equal ones):
    // every request is a query.
    const app = await buildItemsApp(t, { DATABASE_URL: url, PG_POOL_MAX: '3', CACHE_L1: 'false' })
    await admin(
      url,
      `INSERT INTO items (key, value) SELECT 'k' || i, 'v' FROM generate_series(1, 100) AS i`,
    )

    let sampling = true
    let maxConnections = 0
    let maxWaiting = 0
    // Read as each client is handed out, not between samples: a sampler on a busy machine can
    // miss every moment the queue was not empty.
    app.db.on('acquire', () => {
      maxWaiting = Math.max(maxWaiting, app.db.waitingCount)
    })
    const sampler = (async () => {
      while (sampling) {
        const [row] = await admin<{ n: number }>(
          url,
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'freetier'`,
          [name],
        )
        maxConnections = Math.max(maxConnections, row?.n ?? 0)
      }
    })()
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => app.inject(`/items?limit=${i + 1}`)),
    )
    // One more sample after the burst: the connections stay open (idle) until the idle timeout.
    sampling = false
    await sampler
    t.same(new Set(responses.map((r) => r.statusCode)), new Set([200]), 'every request served')
    t.ok(maxWaiting > 0, `requests queued for a connection (max waiting ${maxWaiting})`)
    t.equal(maxConnections, 3, 'the pool used its 3 connections and never more')
    t.equal(app.db.totalCount, 3)
  },
)

t.test("migrations wait for another instance's lock longer than the query timeouts", async (t) => {
  const database = await testDatabase(t)
  if (skipIfEmbedded(t, database)) return
  const { url } = database
  const holder = new pg.Client({ connectionString: url })
  await holder.connect()
  t.teardown(() => holder.end())
  await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY])
  // statement_timeout 100 ms, query_timeout 1.1 s: neither may cut the wait for the lock.
  const settings = poolSettings(testConfig({ PG_STATEMENT_TIMEOUT_MS: '100' }), url)
  let settled = false
  const migrating = migrate(settings.config, { pattern: ITEMS_MIGRATIONS }).finally(() => {
    settled = true
  })
  const waiting = async () =>
    (
      await admin<{ n: number }>(
        url,
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`,
      )
    )[0]?.n
  await waitFor(async () => (await waiting()) === 1, 'the migration to queue on the lock')
  // Past query_timeout, counted from when the wait began: a timeout would have fired by now.
  await sleep(1500)
  t.notOk(settled, 'still waiting for the lock')
  t.equal(await waiting(), 1, 'queued on the advisory lock')
  await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
  const result = await migrating
  t.same(result.applied, ['001.do.items.sql'])
})
