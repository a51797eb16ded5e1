import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { admin, skipIfEmbedded, testDatabase, withDatabase } from '../helpers/database.js'
import { ROOT, startProcess, startServer, TEST_SERVER } from '../helpers/process.js'
import { tcpProxy } from '../helpers/tcp-proxy.js'

const run = promisify(execFile)
const put = (url: string, key: string) =>
  fetch(`${url}/items/${key}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value: key }),
  })
const testRoutes = { testRoutes: true }

t.test(
  'a failed migration stops the start, naming the file and the database message',
  async (t) => {
    const { url } = await testDatabase(t)
    await admin(url, 'CREATE TABLE items (id int)') // what 001 creates already exists
    const proc = await startProcess(t, { env: { DATABASE_URL: url }, args: [TEST_SERVER] })
    const { code } = await proc.waitForExit()
    t.equal(code, 1)
    t.match(
      proc.lines.join('\n'),
      /freetier: cannot start: migration 001\.do\.items\.sql failed: relation "items" already exists/,
    )
    t.notMatch(proc.lines.join('\n'), /listening/)
  },
)

t.test('Postgres unreachable at start: retried, then the start fails saying so', async (t) => {
  const proxy = await tcpProxy(t, 5432)
  await proxy.cut()
  const proc = await startProcess(t, {
    env: {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${proxy.port}/test`,
      DB_STARTUP_RETRY_MS: '1500',
    },
  })
  t.equal((await proc.waitForExit()).code, 1)
  const output = proc.lines.join('\n')
  t.match(output, /postgres not reachable yet \(.*ECONNREFUSED.*\); retrying/)
  t.match(
    output,
    /cannot start: cannot migrate the database: .*ECONNREFUSED.* \(postgres unreachable for \d+ s, \d+ attempts; DB_STARTUP_RETRY_MS=1500\)/,
  )
})

t.test('Postgres not up yet at start: the start waits for it and carries on', async (t) => {
  const { url } = await testDatabase(t)
  const proxy = await tcpProxy(t, Number(new URL(url).port || 5432))
  await proxy.cut()
  const viaProxy = new URL(url)
  viaProxy.port = String(proxy.port)
  const proc = await startProcess(t, { env: { DATABASE_URL: viaProxy.toString() } })
  await proc.waitForLine(/postgres not reachable yet/, 60_000)
  await proxy.restore()
  await proc.waitForLine(/"msg":"ready/, 60_000)
  t.ok(
    proc.lines.some((l) => /postgres reachable; start continues/.test(l)),
    'says when it got through',
  )
  t.notMatch(proc.lines.join('\n'), /"level":(50|60)/, 'a late database is a warning, not an error')
  t.equal((await fetch(`http://127.0.0.1:${proc.port}/readyz`)).status, 200)
})

t.test(
  'Postgres outage: 503 naming it while down, 200 once back, the process never exits',
  async (t) => {
    const { url } = await testDatabase(t)
    const proxy = await tcpProxy(t, Number(new URL(url).port || 5432))
    const viaProxy = new URL(url)
    viaProxy.port = String(proxy.port)
    const server = await startServer(t, { DATABASE_URL: viaProxy.toString() }, testRoutes)
    t.equal((await put(server.url, 'before')).status, 200)

    await proxy.cut()
    for (const path of ['/items', '/items/unknown']) {
      const res = await fetch(`${server.url}${path}`)
      t.equal(res.status, 503, `${path}: 503 while Postgres is down`)
      t.equal(res.headers.get('retry-after'), '5')
      t.match(await res.json(), {
        error: 'Service Unavailable',
        dependency: 'postgres',
        message: 'database unavailable',
      })
    }
    t.equal((await put(server.url, 'during')).status, 503)
    t.equal((await fetch(`${server.url}/healthz`)).status, 200, 'liveness unaffected')
    const ready = await fetch(`${server.url}/readyz`)
    t.equal(ready.status, 503)
    t.match(await ready.json(), { dependencies: { postgres: { status: 'down' } } })

    await proxy.restore()
    const list = await fetch(`${server.url}/items`)
    t.equal(list.status, 200, 'recovers without a restart')
    t.same(
      ((await list.json()) as { items: Array<{ key: string }> }).items.map((n) => n.key),
      ['before'],
      'nothing was written during the outage',
    )
    t.equal((await fetch(`${server.url}/readyz`)).status, 200)
    t.equal(server.child.exitCode, null, 'still running')
    t.notMatch(
      server.lines.join('\n'),
      /"level":(50|60)/,
      'no error-level logs: an outage is a warning',
    )
  },
)

t.test('Postgres stalls: 503 once the query timeout passes, then recovery', async (t) => {
  const { url } = await testDatabase(t)
  const proxy = await tcpProxy(t, Number(new URL(url).port || 5432))
  const viaProxy = new URL(url)
  viaProxy.port = String(proxy.port)
  const server = await startServer(
    t,
    {
      DATABASE_URL: viaProxy.toString(),
      PG_STATEMENT_TIMEOUT_MS: '300',
      // Every read goes to Postgres (a cached page would be served while it stalls).
      CACHE_L1: 'false',
    },
    testRoutes,
  )
  t.equal((await fetch(`${server.url}/items`)).status, 200)
  proxy.hang()
  // The open connection never answers: query_timeout (statement_timeout + 1 s) gives up.
  const stalled = await fetch(`${server.url}/items`)
  t.equal(stalled.status, 503)
  t.match(await stalled.json(), { dependency: 'postgres' })
  await proxy.restore()
  t.equal((await fetch(`${server.url}/items`)).status, 200, 'a fresh connection serves again')
})

t.test('npm run db:migrate applies pending migrations once, and needs DATABASE_URL', async (t) => {
  const database = await testDatabase(t)
  if (skipIfEmbedded(t, database)) return
  const { url } = database
  const script = `${ROOT}/dist/scripts/db-migrate.js`
  const env = { PATH: process.env.PATH, DATABASE_URL: url }
  // Whatever migrations the app's modules have (none once the example is deleted): all, once.
  const version = (stdout: string) => /schema version (\d+) \((\d+) applied\)/.exec(stdout)
  const first = version((await run(process.execPath, [script], { env })).stdout)
  const rows = await admin(url, 'SELECT version FROM schema_migrations WHERE version > 0')
  t.equal(Number(first?.[2]), rows.length, 'applied every migration, each recorded')
  const second = version((await run(process.execPath, [script], { env })).stdout)
  t.same(second?.slice(1), [first?.[1], '0'], 'a second run applies nothing')
  const missing = await run(process.execPath, [script], { env: { PATH: process.env.PATH } }).catch(
    (e: { code: number; stderr: string }) => e,
  )
  t.equal((missing as { code: number }).code, 1)
  t.match((missing as { stderr: string }).stderr, /db:migrate needs DATABASE_URL/)
  const gone = withDatabase(url, 'freetier_no_such_db')
  const failed = await run(process.execPath, [script], {
    env: { ...env, DATABASE_URL: gone },
  }).catch((e: { code: number; stderr: string }) => e)
  t.equal((failed as { code: number }).code, 1)
  t.match((failed as { stderr: string }).stderr, /freetier_no_such_db/)
})
