import t from 'tap'
import { getStatus } from '../helpers/http.js'
import { leakPastGuard } from '../helpers/leak.js'
import { startServer } from '../helpers/process.js'
import { waitFor } from '../helpers/wait.js'

const post = (url: string) => fetch(url, { method: 'POST' })
// The test routes, and no V8 coverage collection: it changes the memory figures under test.
const MEMORY_UNDER_TEST = { testRoutes: true, coverage: false }

t.test('over the RSS threshold: 503 + Retry-After, /healthz still 200', async (t) => {
  // 192 MB limit: shedding at ~163 MB RSS, well above a started server's (85 MB here, 121 MB in
  // one CI rehearsal). Off-heap buffers raise RSS without touching the heap.
  const proc = await startServer(
    t,
    {
      MEMORY_LIMIT_MB: '192',
      EVENT_LOOP_DELAY_MAX_MS: '0',
    },
    MEMORY_UNDER_TEST,
  )
  // Start-up garbage can hold RSS over this small limit's threshold until the post-start GC
  // and load shedding's next sample: wait for that state to pass rather than race it.
  let last = ''
  await waitFor(async () => {
    const res = await fetch(`${proc.url}/__test/work`)
    last = `${res.status} ${await res.text()}`
    return res.status === 200
  }, 'served before the leak').catch(async (error: Error) => {
    // Say why it never served: the last answer and the memory figures shedding reads.
    const memory = (await getStatus(proc.url).catch(() => undefined))?.memory
    throw new Error(`${error.message}; last answer ${last}; memory ${JSON.stringify(memory)}`)
  })
  // Enough buffers to pass the threshold by 16 MB from wherever this server's RSS is now.
  const { memory } = await getStatus(proc.url)
  let toLeak = Math.ceil(memory.plan.shedRssBytes / 1048576 - memory.usageMb.rss) + 16
  while (toLeak > 0) {
    const mb = Math.min(64, toLeak)
    t.equal((await post(`${proc.url}/__test/leak?kind=buffer&mb=${mb}`)).status, 200)
    toLeak -= mb
  }
  // Load shedding samples memory once a second: wait for the state, however long it takes.
  let shed: Response | undefined
  await waitFor(async () => {
    const res = await fetch(`${proc.url}/__test/work`)
    if (res.status === 503) shed = res
    return shed !== undefined
  }, 'requests to be shed')
  t.ok(shed, 'requests are shed')
  t.equal(shed?.headers.get('retry-after'), '10')
  t.match(await shed?.json(), {
    statusCode: 503,
    error: 'Service Unavailable',
    dependency: 'memory',
    message: /RSS .* is over/,
  })
  t.equal((await fetch(`${proc.url}/healthz`)).status, 200, 'liveness keeps answering')
  const status = await getStatus(proc.url)
  t.equal(status.memory.underPressure, true)
})

t.test('leak guard: heap stays high after full GCs -> log, drain, exit non-zero', async (t) => {
  // 256 MB limit: old space 128 MB, leak guard at ~102 MB heap used, shedding at ~115 MB.
  const proc = await startServer(
    t,
    {
      MEMORY_LIMIT_MB: '256',
      LEAK_GUARD_WINDOW_MS: '1000',
      EVENT_LOOP_DELAY_MAX_MS: '0',
    },
    MEMORY_UNDER_TEST,
  )
  await leakPastGuard(proc.url, 256)
  const { code } = await proc.waitForExit()
  t.equal(code, 75, 'exits with the leak code so the platform restarts it', {
    output: code === 75 ? undefined : proc.lines.filter((l) => !/"reqId"/.test(l)).join('\n'),
  })
  const fatal = proc.logs().find((l) => l.level === 60)
  t.match(fatal, {
    msg: /leak guard: heap stayed above its threshold/,
    leak: { heapUsedBytes: Number, thresholdBytes: Number, heapLimitBytes: Number },
  })
  const leak = (fatal as { leak: { heapUsedBytes: number; thresholdBytes: number } }).leak
  t.ok(leak.heapUsedBytes > leak.thresholdBytes)
  t.ok(
    proc.lines.some((l) => /"msg":"closed"/.test(l)),
    'closed cleanly before exiting',
  )
})

t.test('no leak, no exit: a steady heap under the threshold keeps serving', async (t) => {
  const proc = await startServer(
    t,
    {
      MEMORY_LIMIT_MB: '256',
      LEAK_GUARD_WINDOW_MS: '200',
      EVENT_LOOP_DELAY_MAX_MS: '0',
    },
    MEMORY_UNDER_TEST,
  )
  t.equal((await post(`${proc.url}/__test/leak?mb=16`)).status, 200)
  await new Promise((r) => setTimeout(r, 1000))
  t.equal((await fetch(`${proc.url}/healthz`)).status, 200)
  t.equal(proc.child.exitCode, null, 'still running')
})
