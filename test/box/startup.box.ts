/**
 * Start-up inside the free tier's box (0.1 CPU, 512 MB) with Postgres and Redis: every second
 * of boot CPU is ten of wall time there, so a timeout meant to catch a dead dependency can fire
 * while this process only waits for its CPU slice. The start must reach ready with both
 * dependencies up and nothing logged at warn or above, and answer reads from its first 200 on.
 * Run with `npm run test:box`.
 */
import { setTimeout } from 'node:timers/promises'
import t from 'tap'
import { randomPrefix } from '../helpers/redis.js' // redis-only
import { redis as redisService } from '../helpers/services.js' // redis-only
import { waitFor } from '../helpers/workers.js'
import { get } from './load.js'
import { skipUnlessBoxed, startBoxedServer } from './server.js'

const service = await redisService() // redis-only
/** Reads right after the first 200, this far apart: they span load shedding's first samples. */
const FIRST_READS = 25
const FIRST_READS_APART_MS = 100

t.test('0.1 CPU, 512 MB: ready with Postgres and Redis, no warning or error', async (t) => {
  if (skipUnlessBoxed(t)) return
  const env: Record<string, string> = { LOG_LEVEL: 'info' }
  // redis-only: start
  if (service.skip) t.comment(`without Redis: ${service.skip}`)
  else Object.assign(env, { REDIS_URL: service.url as string, REDIS_KEY_PREFIX: randomPrefix() })
  // redis-only: end
  const server = await startBoxedServer(t, 512, env, { cpus: 0.1 })
  // After a spin-down the visitor who woke the service asks at once: from the first 200 on, an
  // ordinary route answers (load shedding does not count boot as a late event loop).
  const statuses: number[] = []
  for (let i = 0; i < FIRST_READS; i++) {
    statuses.push((await get(`${server.url}/api/notes?limit=1`, 60_000)).status)
    await setTimeout(FIRST_READS_APART_MS)
  }
  t.same(
    statuses,
    statuses.map(() => 200),
    `the first ${FIRST_READS} reads after the first 200`,
  )
  await waitFor(
    async () => server.lines.some((l) => /"msg":"ready/.test(l)),
    'the ready line',
    120_000,
  )
  const readiness = await get(`${server.url}/readyz`, 60_000)
  t.equal(readiness.status, 200, `/readyz: ${readiness.text}`)
  const dependencies = JSON.parse(readiness.text ?? '{}').dependencies ?? {}
  t.equal(dependencies.postgres?.status, 'up')
  if (env.REDIS_URL) t.equal(dependencies.redis?.status, 'up')
  const loud = server.lines.filter((l) => {
    const level = /"level":(\d+)/.exec(l)?.[1]
    return level !== undefined && Number(level) >= 40
  })
  t.same(loud, [], 'nothing logged at warn or above during the start')
  t.equal(server.exit(), undefined, 'still running')
})
