/**
 * Inside a real memory cgroup: 200 notes of ~60 KB, then 90 clients asking at once for pages of
 * 100 (6 MB each if a page were bounded by rows alone), several rounds. The process must not be
 * killed (no OOM, no heap abort, no connection reset); what does not fit gets 503 + Retry-After;
 * /healthz answers 200 throughout. Run with `npm run test:box`.
 */
import t from 'tap'
import { admin } from '../helpers/database.js'
import { concurrentGets, pollHealth } from './load.js'
import { mb, skipUnlessBoxed, startBoxedServer } from './server.js'

const NOTES = 200
const NOTE_BYTES = 60_000
const CLIENTS = 90
const ROUNDS = 3

for (const memoryMb of [256, 512]) {
  t.test(
    `${CLIENTS} clients listing pages of 100 large notes in a ${memoryMb} MB box`,
    async (t) => {
      if (skipUnlessBoxed(t)) return
      const server = await startBoxedServer(t, memoryMb)
      await admin(
        server.databaseUrl,
        `INSERT INTO notes (title, body)
       SELECT 'note ' || g, substr(repeat(md5(g::text) || E' lorem *ipsum*\\n', 2000), 1, $1)
       FROM generate_series(1, ${NOTES}) g`,
        [NOTE_BYTES],
      )
      const health = pollHealth(server.url, { timeoutMs: 60_000 })
      const load = await concurrentGets(server.url, '/api/notes?limit=100', {
        clients: CLIENTS,
        rounds: ROUNDS,
      })
      const healthOutcome = await health.stop()
      const peaks = server.peaks()
      t.comment(
        `${memoryMb} MB: statuses ${JSON.stringify(load.statuses)}, peak RSS ${mb(peaks.rssBytes)}, ` +
          `box peak ${mb(peaks.boxBytes)}, OOM kills ${peaks.oomKills}, /healthz ${healthOutcome.checks} ` +
          `checks, worst ${healthOutcome.worstMs} ms, failures ${JSON.stringify(healthOutcome.failures)}`,
      )
      t.equal(server.exit(), undefined, 'the server is still running')
      t.equal(peaks.oomKills, 0, 'no OOM kill in the box')
      t.equal(load.connectionErrors, 0, 'no connection reset or refused')
      t.same(
        Object.keys(load.statuses).filter((status) => status !== '200' && status !== '503'),
        [],
        'every answer is 200 or 503',
      )
      t.ok((load.statuses['200'] ?? 0) > 0, 'pages are served')
      t.equal(load.unavailableWithoutRetryAfter, 0, 'every 503 says when to retry')
      t.ok(healthOutcome.checks > 0, '/healthz was checked during the load')
      t.same(healthOutcome.failures, {}, '/healthz answered 200 every time')
    },
  )
}
