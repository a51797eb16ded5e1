import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyPluginAsync } from 'fastify'
import t, { type Test } from 'tap'
import type { App } from '../src/app.js'
import { buildAppOnFileDatabase } from './helpers/app.js'
import { hungRedis, ownRedis, randomPrefix } from './helpers/redis.js' // redis-only
import { redis as redisService } from './helpers/services.js' // redis-only
import { waitFor } from './helpers/wait.js' // redis-only

const service = await redisService() // redis-only

const apiRoute: FastifyPluginAsync = async (app) => {
  app.get('/api/ping', async () => ({ pong: true }))
}

const WINDOW_MS = 60_000
/**
 * A clock held in the middle of the next window: a test's requests never straddle two windows
 * (on the real clock, one run in ~100 crossed a minute and found every count reset), and the
 * window's end, where Redis expires the shared counters, is still ahead.
 */
const heldClock = () => {
  const held = (Math.floor(Date.now() / WINDOW_MS) + 1.5) * WINDOW_MS
  return () => held
}

async function limitedApp(t: Test, env: Record<string, string> = {}, now = heldClock()) {
  return buildAppOnFileDatabase(
    t,
    { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW: '1 minute', ...env },
    apiRoute,
    { now },
  )
}

t.test('over RATE_LIMIT_MAX: 429 with Retry-After; /healthz never limited', async (t) => {
  const app = await limitedApp(t)
  for (let i = 0; i < 3; i++) {
    const res = await app.inject('/api/ping')
    t.equal(res.statusCode, 200)
    t.equal(res.headers['x-ratelimit-remaining'], String(2 - i))
  }
  const limited = await app.inject('/api/ping')
  t.equal(limited.statusCode, 429)
  const retryAfter = Number(limited.headers['retry-after'])
  t.equal(retryAfter, 30, 'the held clock is half way through its window')
  t.match(limited.json(), { statusCode: 429, error: 'Too Many Requests', message: /Rate limit/ })
  for (let i = 0; i < 10; i++) {
    const health = await app.inject('/healthz')
    t.equal(health.statusCode, 200)
    t.notOk(health.headers['x-ratelimit-limit'], 'no limit headers outside /api')
  }
  t.equal((await app.inject('/readyz')).statusCode, 200)
})

t.test('keyed on the client address that the trusted hops give', async (t) => {
  const app = await limitedApp(t, { TRUST_PROXY_HOPS: '1' })
  const from = (xff: string) =>
    app.inject({ url: '/api/ping', headers: { 'x-forwarded-for': xff } })
  for (let i = 0; i < 3; i++) t.equal((await from('203.0.113.1')).statusCode, 200)
  t.equal((await from('203.0.113.1')).statusCode, 429)
  t.equal((await from('203.0.113.2')).statusCode, 200, 'another client has its own budget')
  t.equal(
    (await from('6.6.6.6, 203.0.113.1')).statusCode,
    429,
    'a forged leftmost entry does not change the address',
  )
})

// redis-only: start
t.test('with Redis', { skip: service.skip ?? false }, async (t) => {
  const url = service.url as string
  /**
   * Instances of one test, as a cluster: one Redis prefix, one held clock (instances built a
   * moment apart, each holding its own, could hold two windows across a minute's turn and never
   * share a count), syncs by hand (the timer is set out of reach) so the test decides when they
   * talk. Each is returned once its shared counters are reachable: a sync before then, or one
   * whose reply takes longer than the command timeout on a busy machine, keeps its counts
   * silently.
   */
  function cluster(env: Record<string, string> = {}) {
    const shared = {
      REDIS_URL: url,
      REDIS_KEY_PREFIX: randomPrefix(),
      RATE_LIMIT_SYNC_MS: '60000',
      REDIS_COMMAND_TIMEOUT_MS: '10000',
      ...env,
    }
    const now = heldClock()
    return async (t: Test) => {
      const app = await limitedApp(t, shared, now)
      await waitFor(() => app.sharedRateLimit?.usable() === true, 'the shared counters')
      return app
    }
  }

  t.test('instances share the counters, within what the other admitted since a sync', async (t) => {
    const instance = cluster()
    const a = await instance(t)
    const b = await instance(t)
    const ping = async (app: App) => (await app.inject('/api/ping')).statusCode
    t.equal(await ping(a), 200)
    t.equal(await ping(a), 200)
    await a.rateLimit.sync()
    t.equal(await ping(b), 200, 'b has not synced yet: it knows only its own request')
    await b.rateLimit.sync()
    t.equal(await ping(b), 429, "b adopted the shared total: a's 2 + its 1 = the limit")
    t.equal(await ping(a), 200, "a has not seen b's request yet: the stated error, one over")
    await a.rateLimit.sync()
    t.equal(await ping(a), 429)
    const res = await b.inject('/api/ping')
    t.equal(res.statusCode, 429)
    t.ok(Number(res.headers['retry-after']) > 0)
  })

  t.test(
    'interleaved load on two instances: admitted between the limit and the bound',
    async (t) => {
      const instance = cluster({ RATE_LIMIT_MAX: '20' })
      const apps = [await instance(t), await instance(t)]
      const syncEvery = 4
      let admitted = 0
      const codes = new Set<number>()
      for (let i = 0; i < 80; i++) {
        const res = await (apps[i % 2] as App).inject('/api/ping')
        codes.add(res.statusCode)
        if (res.statusCode === 200) admitted++
        if (i % syncEvery === syncEvery - 1)
          await Promise.all(apps.map((app) => app.rateLimit.sync()))
      }
      t.same([...codes].sort(), [200, 429], 'nothing but 200 and 429')
      t.ok(admitted >= 20, `never below the limit (admitted ${admitted})`)
      // Between syncs the other instance admits at most syncEvery / 2 requests unseen.
      t.ok(
        admitted <= 20 + syncEvery / 2,
        `over the limit by at most the unsynced share (${admitted})`,
      )
    },
  )

  t.test('Redis killed: the local count goes on, no 5xx, nothing waits', async (t) => {
    const own = await ownRedis(t)
    const app = await limitedApp(t, {
      REDIS_URL: own.url,
      REDIS_KEY_PREFIX: randomPrefix(),
      RATE_LIMIT_SYNC_MS: '60000',
    })
    const ping = async () => (await app.inject('/api/ping')).statusCode
    t.equal(await ping(), 200)
    await app.rateLimit.sync()
    await own.kill()
    while ((await app.inject('/readyz')).json().dependencies.redis.status === 'up') {
      await sleep(20)
    }
    t.same([await ping(), await ping(), await ping(), await ping()], [200, 200, 429, 429])
    await app.rateLimit.sync()
    t.equal(await ping(), 429, 'a sync that cannot reach Redis keeps the counts')
  })

  t.test('Redis not answering: still limited, in memory, and prompt', async (t) => {
    const app = await limitedApp(t, {
      REDIS_URL: await hungRedis(t),
      REDIS_KEY_PREFIX: randomPrefix(),
    })
    // The hung server never replies: these finish only because nothing waits on it.
    const codes = []
    for (let i = 0; i < 5; i++) codes.push((await app.inject('/api/ping')).statusCode)
    t.same(codes, [200, 200, 200, 429, 429])
  })
})
// redis-only: end
