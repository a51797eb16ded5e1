import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import type { App } from '../src/app.js'
import { createNote } from '../src/notes/test/helpers.js'
import { buildTestApp } from './helpers/app.js'
import { eventually } from './helpers/cache.js'
import { testDatabase } from './helpers/database.js'
import { ownRedis, randomPrefix } from './helpers/redis.js'

/**
 * Runs `concurrency` loops of requests against the notes API for `ms`: reads of single notes
 * and of list pages of many sizes (L1, L2 and Postgres), and every tenth a write (invalidation).
 * Returns every status and the slowest answer.
 */
async function load(
  app: App,
  ids: string[],
  ms: number,
  concurrency = 10,
): Promise<{ statuses: Map<number, number>; slowestMs: number; count: number }> {
  const statuses = new Map<number, number>()
  let slowestMs = 0
  let count = 0
  const until = Date.now() + ms
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = worker; Date.now() < until; i += concurrency) {
        const id = ids[i % ids.length]
        const started = performance.now()
        const res =
          i % 10 === 0
            ? await app.inject({
                method: 'PATCH',
                url: `/api/notes/${id}`,
                payload: { body: `edit ${i}` },
              })
            : await app.inject(i % 2 ? `/api/notes/${id}` : `/api/notes?limit=${1 + (i % 100)}`)
        slowestMs = Math.max(slowestMs, performance.now() - started)
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
        count++
        await sleep(2)
      }
    }),
  )
  return { statuses, slowestMs, count }
}

async function notesApps(t: Test, url: string, instances: number) {
  const env = {
    REDIS_URL: url,
    REDIS_KEY_PREFIX: randomPrefix(),
    DATABASE_URL: (await testDatabase(t)).url,
    RATE_LIMIT_MAX: '1000000',
  }
  const apps = []
  for (let i = 0; i < instances; i++) apps.push(await buildTestApp(t, env))
  const ids = []
  for (let i = 0; i < 30; i++) ids.push((await createNote(apps[0] as App, `note ${i}`)).id)
  return { apps: apps as [App, App], ids }
}

const stats = async (app: App) => (await app.inject('/status')).json().cache

const redisUp = async (app: App) =>
  ((await app.inject('/readyz')).json() as { dependencies: { redis: { status: string } } })
    .dependencies.redis.status === 'up'

t.test(
  'Redis killed under load: all 200, none slow; restarted: L2 and invalidation resume',
  async (t) => {
    const own = await ownRedis(t)
    const { apps, ids } = await notesApps(t, own.url, 2)
    const [a, b] = apps

    const killing = sleep(700).then(() => own.kill())
    const result = await load(a, ids, 2000)
    await killing
    t.same([...result.statuses.keys()], [200], `all ${result.count} answered 200`)
    t.ok(result.slowestMs < 1000, `slowest request ${Math.round(result.slowestMs)} ms`)
    t.equal((await stats(a)).invalidation, 'down')
    t.equal((await stats(a)).namespaces.queries.l2.state, 'bypassed', 'writes could not reach L2')

    await own.start()
    t.ok(
      await eventually(async () => (await redisUp(a)) && (await redisUp(b)), 5000),
      'reconnected',
    )
    t.ok(
      await eventually(async () => (await stats(a)).namespaces.queries.l2.state === 'up', 5000),
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
    const url = `/api/notes/${(await createNote(a, 'after')).id}`
    t.equal((await a.inject(url)).headers['x-cache'], 'miss')
    t.equal((await b.inject(url)).headers['x-cache'], 'l2', 'L2 shared again')
    t.equal((await b.inject(url)).headers['x-cache'], 'l1')
    await a.inject({ method: 'PATCH', url, payload: { title: 'after the outage' } })
    t.ok(
      await eventually(async () => (await b.inject(url)).json().title === 'after the outage'),
      'invalidation reaches B again',
    )
  },
)

t.test('Redis hung after start (SIGSTOP): answers stay prompt, recovery on SIGCONT', async (t) => {
  const own = await ownRedis(t)
  const { apps, ids } = await notesApps(t, own.url, 1)
  const [a] = apps
  await load(a, ids, 300)
  own.pause()
  const result = await load(a, ids, 2500)
  t.same([...result.statuses.keys()], [200], `all ${result.count} answered 200`)
  t.ok(result.slowestMs < 1000, `slowest request ${Math.round(result.slowestMs)} ms`)
  own.resume()
  t.ok(await eventually(async () => redisUp(a), 8000), 'reconnected')
  t.ok(
    await eventually(async () => (await stats(a)).namespaces.queries.l2.state === 'up', 5000),
    'L2 trusted again',
  )
})
