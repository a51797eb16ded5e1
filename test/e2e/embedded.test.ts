import { cpSync, existsSync, readdirSync, symlinkSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { getStatus } from '../helpers/http.js'
import { ROOT, startProcess, TEST_SERVER } from '../helpers/process.js'

// The embedded default, as a developer gets it: the bootstrap with no DATABASE_URL.
const READY = /"msg":"ready/

t.test('no DATABASE_URL: embedded PGlite serves and keeps data across restarts', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'freetier-embedded-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  // On Node 24, V8 compiling PGlite's WebAssembly briefly takes ~700 MB of native memory in the
  // first seconds (README: embedded mode); a roomy limit keeps load shedding out of this test.
  const env = {
    DATABASE_URL: '',
    PGLITE_DATA_DIR: dir,
    NODE_ENV: 'development',
    MEMORY_LIMIT_MB: '2048',
  }

  const first = await startProcess(t, { env, args: [TEST_SERVER] })
  await first.waitForLine(READY)
  t.match(
    first.lines.join('\n'),
    /embedded Postgres \(PGlite\) in use, data in .*; set DATABASE_URL=postgres:\/\/.* to use a real Postgres/,
  )
  const created = await fetch(`${first.url}/items/kept`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value: 'across restarts' }),
  })
  t.equal(created.status, 200)
  const status = await getStatus(first.url)
  t.match(status.postgres, { settings: { embedded: true, max: 1 } })
  t.ok(existsSync(join(dir, 'freetier.lock')), 'the data dir is locked while in use')

  // A second process on the same data dir would corrupt it: it refuses to start.
  const second = await startProcess(t, { env, args: [TEST_SERVER] })
  t.equal((await second.waitForExit()).code, 1)
  t.match(second.lines.join('\n'), /data dir .* is in use by process \d+/)

  first.child.kill('SIGTERM')
  t.equal((await first.waitForExit()).code, 0)
  t.notOk(existsSync(join(dir, 'freetier.lock')), 'the lock is released on shutdown')

  const again = await startProcess(t, { env, args: [TEST_SERVER] })
  await again.waitForLine(READY)
  t.notMatch(again.lines.join('\n'), /applied migration/, 'already migrated')
  const read = await fetch(`${again.url}/items/kept`)
  t.equal(read.status, 200)
  t.same(await read.json(), { key: 'kept', value: 'across restarts' })
})

t.test('embedded mode without PGlite installed: one line naming the fix, exit 1', async (t) => {
  // A real install without the development dependencies PGlite comes in: the build and
  // package.json copied, node_modules holding every package of the root's but @electric-sql.
  const app = await mkdtemp(join(tmpdir(), 'freetier-no-pglite-'))
  t.teardown(() => rm(app, { recursive: true, force: true }))
  cpSync(join(ROOT, 'package.json'), join(app, 'package.json'))
  for (const dir of ['src', 'scripts']) {
    cpSync(join(ROOT, 'dist', dir), join(app, 'dist', dir), { recursive: true })
  }
  await mkdir(join(app, 'node_modules'))
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name === '@electric-sql' || name.startsWith('.')) continue
    symlinkSync(join(ROOT, 'node_modules', name), join(app, 'node_modules', name))
  }

  const proc = await startProcess(t, {
    cwd: app,
    script: join(app, 'dist', 'scripts', 'start.js'),
    env: { DATABASE_URL: '', PGLITE_DATA_DIR: join(app, '.data'), NODE_ENV: 'development' },
  })
  t.equal((await proc.waitForExit()).code, 1)
  const errors = proc.lines.filter((l) => l.startsWith('freetier: cannot start'))
  t.same(errors, [
    'freetier: cannot start: DATABASE_URL is unset, so the app would start the embedded Postgres, but PGlite (@electric-sql/pglite and @electric-sql/pglite-socket, development dependencies) is not installed: set DATABASE_URL, or install the development dependencies (npm install)',
  ])
  t.notOk(
    proc.lines.some((l) => /^\s+at /.test(l)),
    'no stack trace',
  )
})
