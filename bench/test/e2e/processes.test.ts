import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { boxSupport } from '../../../scripts/box.js'
import { BASELINES } from '../../baselines.js'
import { send } from '../../http.js'
import { cpuMs, type ServerSpec, startServer, stopServer } from '../../processes.js'
import { recordResponse } from '../../replay.js'

const DIST_BENCH = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

const spec = (box: ServerSpec['box']): ServerSpec => ({
  label: BASELINES.http.label,
  script: join(DIST_BENCH, BASELINES.http.script),
  nodeArgs: ['--expose-gc'],
  env: {},
  box,
  cpu: undefined,
  cwd: DIST_BENCH,
})

t.test('a server is started, timed, read and stopped cleanly', async (t) => {
  const server = await startServer(spec(undefined), '/healthz')
  t.teardown(() => stopServer(server))
  t.ok(server.bootMs > 0, 'spawn to first 200 timed')
  t.ok(
    server.coldReadMs !== undefined && server.coldReadMs >= server.bootMs,
    'no x-cache header: the first 200 on the cold-read path counts',
  )
  t.ok(server.idle.tree > 0 && server.pids.includes(server.child.pid as number), 'idle RSS read')
  t.ok(cpuMs(server) > 0, 'CPU time from /proc')
  t.equal((await send(`${server.url}/healthz`)).body, '{"status":"ok"}')
  await stopServer(server)
  t.same(server.exit, { code: 0, signal: null }, 'SIGTERM: a clean exit')
  t.equal(server.boxStats, undefined)
})

t.test('a boot that never answers fails with the reason and its output', async (t) => {
  const broken = { ...spec(undefined), script: join(DIST_BENCH, 'no-such-baseline.js') }
  await t.rejects(
    startServer(broken),
    /exited \(\{"code":1,"signal":null\}\) before first 200 on \/healthz[\s\S]*\| .*no-such-baseline/,
  )
})

const support = boxSupport()
t.test(
  'in a box: limits applied, its account read, the box removed',
  { skip: support.ok ? false : support.reason },
  async (t) => {
    const server = await startServer(spec({ cpus: 1, memoryMb: 128 }))
    t.teardown(() => stopServer(server))
    t.ok(server.box, 'made a box')
    t.ok(cpuMs(server) > 0, "CPU time from the box's account")
    await stopServer(server)
    t.same(server.exit, { code: 0, signal: null })
    t.ok((server.boxStats?.memoryPeakBytes ?? 0) > 0, 'the box counted memory')
    t.equal(server.boxStats?.oomKills, 0)
    t.same(server.box?.pids(), [], 'nothing left inside')
  },
)

t.test("the replay baseline sends the app's recorded responses again, as they were", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'freetier-replay-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const original = {
    status: 200,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'x-cache': 'l1',
      'x-frame-options': 'SAMEORIGIN',
      date: 'Thu, 01 Jan 2026 00:00:00 GMT',
      'content-length': '17',
    },
    body: '{"id":"a","n":1}\n',
  }
  const file = join(dir, 'responses.json')
  await writeFile(file, JSON.stringify({ '/api/notes/a': recordResponse(original) }))
  const server = await startServer({
    ...spec(undefined),
    label: BASELINES.replay.label,
    script: join(DIST_BENCH, BASELINES.replay.script),
    env: { REPLAY_FILE: file },
  })
  t.teardown(() => stopServer(server))
  const replayed = await send(`${server.url}/api/notes/a`)
  t.equal(replayed.status, 200)
  t.equal(replayed.body, original.body, 'the same body')
  for (const name of ['content-type', 'x-cache', 'x-frame-options']) {
    t.equal(replayed.headers[name], original.headers[name as keyof typeof original.headers], name)
  }
  t.not(replayed.headers.date, original.headers.date, 'its own date, not the recorded one')
  t.equal(replayed.headers['content-length'], '17')
  t.equal((await send(`${server.url}/api/notes/b`)).status, 404, 'a path not recorded')
})
