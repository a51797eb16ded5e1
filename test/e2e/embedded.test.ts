import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { getStatus } from '../helpers/http.js'
import { startProcess, TEST_SERVER } from '../helpers/process.js'

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
