import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { boxSupport } from '../../../scripts/box.js'
import { BASELINES } from '../../baselines.js'
import { send } from '../../http.js'
import { cpuMs, type ServerSpec, startServer, stopServer } from '../../processes.js'

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
