import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { cachedApp, eventually } from './helpers/cache.js'
import { ownRedis, randomPrefix } from './helpers/redis.js'

/**
 * Sends `concurrency` request loops for `ms`, alternating a repeated key (L1 after its first
 * load) and a new one (always down to L2 and the loader); returns the statuses and the slowest.
 */
async function load(
  get: (id: string) => Promise<{ status: number }>,
  ms: number,
  concurrency = 10,
): Promise<{ statuses: Map<number, number>; slowestMs: number; count: number }> {
  const statuses = new Map<number, number>()
  let slowestMs = 0
  let count = 0
  const until = Date.now() + ms
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = 0; Date.now() < until; i++) {
        const started = performance.now()
        const { status } = await get(
          i % 2 ? `k-${(worker * 7 + i) % 30}` : `new-${worker}-${i}-${Date.now()}`,
        )
        slowestMs = Math.max(slowestMs, performance.now() - started)
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
        count++
        await sleep(2)
      }
    }),
  )
  return { statuses, slowestMs, count }
}

const redisUp = async (app: { inject: (url: string) => Promise<{ json(): unknown }> }) =>
  ((await app.inject('/readyz')).json() as { dependencies: { redis: { status: string } } })
    .dependencies.redis.status === 'up'

t.test(
  'Redis killed under load: all 200, none slow; restarted: L2 and invalidation resume',
  async (t) => {
    const own = await ownRedis(t)
    const env = { REDIS_URL: own.url, REDIS_KEY_PREFIX: randomPrefix() }
    const a = await cachedApp(t, env)
    const b = await cachedApp(t, env)
    const getA = async (id: string) => ({
      status: (await a.app.inject(`/item/queries/${id}`)).statusCode,
    })

    const killing = sleep(700).then(() => own.kill())
    const result = await load(getA, 2000)
    await killing
    t.same([...result.statuses.keys()], [200], `all ${result.count} answered 200`)
    t.ok(result.slowestMs < 1000, `slowest request ${Math.round(result.slowestMs)} ms`)
    t.equal((await a.stats()).invalidation, 'down')
    t.equal((await a.get('queries', 'during')).source, 'miss', 'served from the loader')

    // Writes while Redis is down are applied locally; L2 is distrusted until cleared.
    await a.app.cache.queries.invalidate({ keys: ['k-1'] })
    t.equal((await a.stats()).namespaces.queries.l2.state, 'bypassed')

    await own.start()
    t.ok(
      await eventually(async () => (await redisUp(a.app)) && (await redisUp(b.app)), 5000),
      'reconnected',
    )
    t.ok(
      await eventually(async () => (await a.stats()).namespaces.queries.l2.state === 'up', 5000),
      'L2 trusted again after clearing',
    )
    t.ok(await eventually(async () => (await b.stats()).invalidation === 'subscribed', 5000))
    t.equal((await a.get('queries', 'after')).source, 'miss')
    t.equal((await b.get('queries', 'after')).source, 'l2', 'L2 shared again')
    t.equal((await b.get('queries', 'after')).source, 'l1')
    await a.app.cache.queries.invalidate({ keys: ['after'] })
    t.ok(
      await eventually(async () => (await b.get('queries', 'after')).source === 'miss'),
      'invalidation reaches B again',
    )
  },
)

t.test('Redis hung after start (SIGSTOP): answers stay prompt, recovery on SIGCONT', async (t) => {
  const own = await ownRedis(t)
  const env = { REDIS_URL: own.url, REDIS_KEY_PREFIX: randomPrefix() }
  const a = await cachedApp(t, env)
  const getA = async (id: string) => ({
    status: (await a.app.inject(`/item/views/${id}`)).statusCode,
  })
  await load(getA, 300)
  own.pause()
  const result = await load(getA, 2500)
  t.same([...result.statuses.keys()], [200], `all ${result.count} answered 200`)
  t.ok(result.slowestMs < 1000, `slowest request ${Math.round(result.slowestMs)} ms`)
  const started = performance.now()
  await a.app.cache.views.invalidate({ keys: ['k-2'] })
  t.ok(performance.now() - started < 1000, 'a write does not hang either')
  own.resume()
  t.ok(await eventually(async () => redisUp(a.app), 8000), 'reconnected')
  t.ok(
    await eventually(async () => (await a.stats()).namespaces.views.l2.state === 'up', 5000),
    'L2 trusted again',
  )
})
