import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import type { App } from '../src/app.js'
import { buildItemsApp, putItem } from './helpers/app.js'
import { eventually } from './helpers/cache.js'
import { testDatabase } from './helpers/database.js'
import { ownRedis, randomPrefix } from './helpers/redis.js'

/**
 * Sends `requests` requests from `concurrency` loops to the tests' own resource (items): reads
 * of single items and of list pages of many sizes (L1, L2 and Postgres), and every tenth a write
 * (invalidation). `during` runs once `during.after` requests have been answered, while the others
 * keep going. Returns every status.
 */
async function load(
  app: App,
  keys: string[],
  requests: number,
  during?: { after: number; run: () => Promise<void> },
): Promise<{ statuses: Map<number, number>; count: number }> {
  const concurrency = 10
  const statuses = new Map<number, number>()
  let count = 0
  let action: Promise<void> | undefined
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = worker; i < requests; i += concurrency) {
        const key = keys[i % keys.length] as string
        const res =
          i % 10 === 0
            ? await app.inject({ method: 'PUT', url: `/items/${key}`, payload: { value: `${i}` } })
            : await app.inject(i % 2 ? `/items/${key}` : `/items?limit=${1 + (i % 100)}`)
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
        count++
        if (during && count === during.after) action = during.run()
        await sleep(2)
      }
    }),
  )
  await action
  return { statuses, count }
}

async function itemsApps(t: Test, url: string, instances: number) {
  const env = {
    REDIS_URL: url,
    REDIS_KEY_PREFIX: randomPrefix(),
    DATABASE_URL: (await testDatabase(t)).url,
    RATE_LIMIT_MAX: '1000000',
  }
  const apps = []
  for (let i = 0; i < instances; i++) apps.push(await buildItemsApp(t, env))
  const keys = []
  for (let i = 0; i < 30; i++) keys.push((await putItem(apps[0] as App, `item-${i}`, `${i}`)).key)
  return { apps: apps as [App, App], keys }
}

const stats = async (app: App) => (await app.inject('/status')).json().cache

/** Sees its peers and trusts its caches (src/cache/redis-coherence.ts). */
const coherent = async (app: App) => {
  const { coherence, invalidation } = await stats(app)
  return invalidation === 'subscribed' && coherence.trustedForMs > 0
}

const redisUp = async (app: App) =>
  ((await app.inject('/readyz')).json() as { dependencies: { redis: { status: string } } })
    .dependencies.redis.status === 'up'

t.test('Redis killed under load: all 200; restarted: L2 and invalidation resume', async (t) => {
  const own = await ownRedis(t)
  const { apps, keys } = await itemsApps(t, own.url, 2)
  const [a, b] = apps

  const result = await load(a, keys, 600, { after: 200, run: () => own.kill() })
  t.same([...result.statuses.keys()], [200], `all ${result.count} answered 200`)
  t.equal((await stats(a)).invalidation, 'down')
  t.equal((await stats(a)).namespaces.queries.l2.state, 'bypassed', 'writes could not reach L2')

  await own.start()
  t.ok(await eventually(async () => (await redisUp(a)) && (await redisUp(b))), 'reconnected')
  t.ok(
    await eventually(async () => (await stats(a)).namespaces.queries.l2.state === 'up'),
    'L2 trusted again after clearing',
  )
  t.ok(
    await eventually(
      async () =>
        (await stats(a)).invalidation === 'subscribed' &&
        (await stats(b)).invalidation === 'subscribed',
      5000,
    ),
    'both listen again (and have emptied their L1)',
  )
  t.ok(
    await eventually(async () => (await coherent(a)) && (await coherent(b)), 10_000),
    'both trust their caches again (each has seen the other heartbeat since)',
  )
  const url = `/items/${(await putItem(a, 'after', 'stored')).key}`
  t.equal((await a.inject(url)).headers['x-cache'], 'miss')
  t.equal((await b.inject(url)).headers['x-cache'], 'l2', 'L2 shared again')
  t.equal((await b.inject(url)).headers['x-cache'], 'l1')
  await putItem(a, 'after', 'after the outage')
  t.ok(
    await eventually(async () => (await b.inject(url)).json().value === 'after the outage'),
    'invalidation reaches B again',
  )
})

t.test(
  'Redis hung after start (SIGSTOP): all answered from L1/Postgres, recovery on SIGCONT',
  async (t) => {
    const own = await ownRedis(t)
    const { apps, keys } = await itemsApps(t, own.url, 1)
    const [a] = apps
    await load(a, keys, 100)
    own.pause()
    // A command to a stopped server never gets an answer: only the command timeout and the
    // breaker let these finish (a regression hangs here until the test's timeout fails it).
    const result = await load(a, keys, 400)
    t.same([...result.statuses.keys()], [200], `all ${result.count} answered 200`)
    t.match(
      (await a.inject('/status')).json().redis.breaker,
      { failures: Number, lastError: String },
      'commands to the hung server timed out and opened the breaker',
    )
    t.ok((await a.inject('/status')).json().redis.breaker.failures > 0)
    own.resume()
    t.ok(await eventually(async () => redisUp(a)), 'reconnected')
    t.ok(
      await eventually(async () => (await stats(a)).namespaces.queries.l2.state === 'up'),
      'L2 trusted again',
    )
  },
)
