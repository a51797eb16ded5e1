/**
 * Inside a real memory cgroup: uncached `/html` renders at ten times what the worker pool holds
 * (threads + queue), with a task timeout short enough that tasks time out and their workers are
 * replaced while others wait. Every answer is 200, 503 (+ Retry-After) or 504: never a 500, no
 * connection lost, /healthz answers 200 throughout. Run with `npm run test:box`.
 */
import t from 'tap'
import { admin } from '../helpers/database.js'
import { concurrentGets, pollHealth } from './load.js'
import { mb, skipUnlessBoxed, startBoxedServer } from './server.js'

const THREADS = 2
const QUEUE = 32
const REQUESTS = 10 * (THREADS + QUEUE)
const MARKDOWN =
  '## Section\\n\\nSome *emphasis*, **strong**, `code`, a [link](https://example.com/x) and ' +
  '<b>inline html</b>.\\n\\n- item one\\n- [ ] task\\n\\n| a | b |\\n|---|---|\\n| 1 | <i>x</i> |\\n\\n'

t.test(`${REQUESTS} uncached renders at once, 10x the worker pool, in a 512 MB box`, async (t) => {
  if (skipUnlessBoxed(t)) return
  const server = await startBoxedServer(t, 512, {
    WORKER_THREADS: String(THREADS),
    WORKER_MAX_QUEUE: String(QUEUE),
    WORKER_TASK_TIMEOUT_MS: '3000',
    // Every request renders: nothing is kept in the process, and there is no Redis.
    CACHE_L1: 'false',
  })
  const ids = (
    await admin<{ id: string }>(
      server.databaseUrl,
      `INSERT INTO notes (title, body)
       SELECT 'note ' || g, substr(repeat(E'${MARKDOWN}', 200), 1, 20000)
       FROM generate_series(1, ${REQUESTS}) g RETURNING id`,
    )
  ).map((row) => row.id)
  const health = pollHealth(server.url, { timeoutMs: 60_000 })
  const load = await concurrentGets(server.url, (client) => `/api/notes/${ids[client]}/html`, {
    clients: REQUESTS,
    rounds: 2,
  })
  const healthOutcome = await health.stop()
  const peaks = server.peaks()
  t.comment(
    `statuses ${JSON.stringify(load.statuses)}, peak RSS ${mb(peaks.rssBytes)}, /healthz ` +
      `${healthOutcome.checks} checks, worst ${healthOutcome.worstMs} ms, failures ` +
      `${JSON.stringify(healthOutcome.failures)}, 5xx: ${load.serverErrors.join(' | ')}`,
  )
  // How many renders finish depends on the machine's spare CPU (on a busy one, few or none in
  // time): the guarantee is about how the rest are answered.
  t.equal(server.exit(), undefined, 'the server is still running')
  t.equal(peaks.oomKills, 0, 'no OOM kill in the box')
  t.equal(load.connectionErrors, 0, 'no connection reset or refused')
  t.equal(load.statuses['500'] ?? 0, 0, 'no 500')
  t.same(
    Object.keys(load.statuses).filter((status) => !['200', '503', '504'].includes(status)),
    [],
    'every answer is 200, 503 or 504',
  )
  t.equal(load.unavailableWithoutRetryAfter, 0, 'every 503 says when to retry')
  t.same(healthOutcome.failures, {}, '/healthz answered 200 every time')
})
