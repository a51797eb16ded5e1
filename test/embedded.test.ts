import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { getStatus } from './helpers/http.js'
import { startProcess } from './helpers/process.js'

// The embedded default, as a developer gets it: the bootstrap with no DATABASE_URL.
const READY = /"msg":"ready/
// PGlite's first start runs initdb (seconds of CPU); give a loaded machine time.
const START_TIMEOUT_MS = 120_000

t.test(
  'no DATABASE_URL: embedded PGlite serves the notes API and keeps data across restarts',
  async (t) => {
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

    const first = await startProcess(t, { env })
    await first.waitForLine(READY, START_TIMEOUT_MS)
    t.match(
      first.lines.join('\n'),
      /embedded Postgres \(PGlite\) in use, data in .*; set DATABASE_URL=postgres:\/\/.* to use a real Postgres/,
    )
    const created = await fetch(`${first.url}/api/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'kept', body: '**bold**' }),
    })
    t.equal(created.status, 201)
    const note = (await created.json()) as { id: string; title: string }
    const status = await getStatus(first.url)
    t.match(status.postgres, { settings: { embedded: true, max: 1 } })
    t.ok(existsSync(join(dir, 'freetier.lock')), 'the data dir is locked while in use')

    // A second process on the same data dir would corrupt it: it refuses to start.
    const second = await startProcess(t, { env })
    t.equal((await second.waitForExit(START_TIMEOUT_MS)).code, 1)
    t.match(second.lines.join('\n'), /data dir .* is in use by process \d+/)

    first.child.kill('SIGTERM')
    t.equal((await first.waitForExit()).code, 0)
    t.notOk(existsSync(join(dir, 'freetier.lock')), 'the lock is released on shutdown')

    const again = await startProcess(t, { env })
    await again.waitForLine(READY, START_TIMEOUT_MS)
    t.notMatch(again.lines.join('\n'), /applied migration/, 'already migrated')
    const read = await fetch(`${again.url}/api/notes/${note.id}`)
    t.equal(read.status, 200)
    t.match(await read.json(), { id: note.id, title: 'kept', body: '**bold**' })
  },
)
