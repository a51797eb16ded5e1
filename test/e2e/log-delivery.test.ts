import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { leakPastGuard } from '../helpers/leak.js'
import { type RunningProcess, startServer } from '../helpers/process.js'

/**
 * Log lines written while stdout is a full pipe are kept in memory (the logger never blocks the
 * event loop on stdout) and must all reach the reader when the process exits: cleanly, after an
 * uncaught exception, or through the leak guard. The reader stops reading, so the pipe fills and
 * thousands of lines wait in the process, then it triggers the exit and reads again.
 */

const LINES = 5000

const post = (url: string) => fetch(url, { method: 'POST' })

async function fillWhileNotReading(proc: RunningProcess) {
  proc.child.stdout?.pause()
  const res = await post(`${proc.url}/__test/log?lines=${LINES}`)
  return res.status
}

function checkDelivered(t: Test, proc: RunningProcess, last: RegExp) {
  const seqs = new Set(
    proc
      .logs()
      .filter((l) => l.msg === 'numbered test line')
      .map((l) => l.seq),
  )
  t.equal(seqs.size, LINES, `all ${LINES} numbered lines arrived`)
  const lastIndex = proc.lines.findLastIndex((l) => last.test(l))
  t.ok(lastIndex >= 0, `the final line ${last} arrived`)
  const unparsable = proc.lines.filter((l) => l.startsWith('{') && !l.endsWith('}'))
  t.same(unparsable, [], 'no line cut short')
}

const resumeSoon = (proc: RunningProcess) =>
  sleep(500).then(() => {
    proc.child.stdout?.resume()
  })

t.test('clean exit (SIGTERM) with a full stdout pipe: every line arrives', async (t) => {
  const proc = await startServer(t, {}, { testRoutes: true })
  t.equal(await fillWhileNotReading(proc), 200, 'the request did not wait on stdout')
  proc.child.kill('SIGTERM')
  await resumeSoon(proc)
  const { code } = await proc.waitForExit()
  t.equal(code, 0)
  checkDelivered(t, proc, /"msg":"closed"/)
})

t.test('crash (uncaught exception) with a full stdout pipe: every line arrives', async (t) => {
  const proc = await startServer(t, {}, { testRoutes: true })
  t.equal(await fillWhileNotReading(proc), 200)
  await post(`${proc.url}/__test/crash`).catch(() => undefined)
  await resumeSoon(proc)
  const { code } = await proc.waitForExit()
  t.not(code, 0, 'a crash exits non-zero')
  checkDelivered(t, proc, /test crash: uncaught exception/)
})

t.test('leak guard exit with a full stdout pipe: every line arrives', async (t) => {
  const proc = await startServer(
    t,
    { MEMORY_LIMIT_MB: '256', LEAK_GUARD_WINDOW_MS: '1000', EVENT_LOOP_DELAY_MAX_MS: '0' },
    { testRoutes: true },
  )
  t.equal(await fillWhileNotReading(proc), 200)
  await leakPastGuard(proc.url, 256)
  await resumeSoon(proc)
  const { code } = await proc.waitForExit()
  t.equal(code, 75)
  checkDelivered(t, proc, /leak guard: heap stayed above its threshold/)
})
