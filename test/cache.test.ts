import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import type { App } from '../src/app.js' // redis-only
import { RedisL2 } from '../src/cache/redis-l2.js' // redis-only
import { buildTestApp } from './helpers/app.js'
import { cachedApp, eventually } from './helpers/cache.js'
import { testDatabase } from './helpers/database.js'
import { acquainted, randomPrefix, testClient } from './helpers/redis.js' // redis-only
import { redis as redisService } from './helpers/services.js' // redis-only

const service = await redisService() // redis-only

function tierTests(t: Test, env: () => Record<string, string>) {
  t.test('hit, miss and expiry per namespace', async (t) => {
    // Only "expired after sleeping past the TTL" is asserted at the short TTL (a sleep is a lower
    // bound on any machine); "still cached" is asserted where the TTL is far away.
    const { get, stats } = await cachedApp(t, {
      ...env(),
      CACHE_VIEWS_TTL: '1',
      CACHE_QUERIES_TTL: '600',
    })
    t.same(await get('views', 'a'), { source: 'miss', body: { id: 'a', n: 1, pad: '' } })
    t.equal((await get('queries', 'a')).source, 'miss', 'namespaces are separate')
    t.equal((await get('queries', 'a')).source, 'l1')
    await sleep(1200)
    t.same(
      await get('views', 'a'),
      { source: 'miss', body: { id: 'a', n: 2, pad: '' } },
      'views expired (L1 and L2)',
    )
    t.equal((await get('queries', 'a')).source, 'l1', 'queries live longer')
    const s = await stats()
    t.match(s.namespaces.views, { ttlSeconds: 1, hits: 0, misses: 2, l1: { entries: 1 } })
    t.match(s.namespaces.queries, { ttlSeconds: 600, hits: 2, misses: 1 })
  })

  t.test(
    'a cached value is the text its route schema makes, sent unchanged by any tier',
    async (t) => {
      const shared: Record<string, string> = { ...env(), DATABASE_URL: (await testDatabase(t)).url }
      let loads = 0
      const route = async (app: FastifyInstance) => {
        app.get(
          '/thing',
          {
            schema: {
              response: {
                200: {
                  type: 'object',
                  properties: {
                    id: { type: 'integer' },
                    at: { type: 'string', format: 'date-time' },
                  },
                },
              },
            },
          },
          async (_request, reply) => {
            const cached = await app.cache.queries.getOrLoad('thing', async () => {
              loads++
              return reply.cacheText({ id: 7, at: new Date(0), secret: 'not in the schema' })
            })
            return reply.sendCached(cached)
          },
        )
      }
      const a = await buildTestApp(t, shared, route)
      const b = await buildTestApp(t, shared, route)
      const expected = '{"id":7,"at":"1970-01-01T00:00:00.000Z"}'
      const tiers = []
      for (const app of [a, a, b, b]) {
        const res = await app.inject('/thing')
        t.equal(res.body, expected, `x-cache ${res.headers['x-cache']}: the schema's text`)
        t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
        tiers.push(res.headers['x-cache'])
      }
      t.same(tiers, shared.REDIS_URL ? ['miss', 'l1', 'l2', 'l1'] : ['miss', 'l1', 'miss', 'l1'])
      t.equal(loads, shared.REDIS_URL ? 1 : 2)
    },
  )

  t.test('L1 stays within its byte budget after far more is inserted', async (t) => {
    // A 4 MB budget; 600 values of 20 KB = 12 MB.
    const budget = 4 * 1024 * 1024
    const { get, stats } = await cachedApp(t, env(), budget)
    for (let i = 0; i < 600; i++) {
      await get('views', `big-${i}`, 20)
      if (i % 50 === 0) {
        const { l1 } = await stats()
        t.ok(l1.bytes <= budget, `after ${i + 1} inserts: ${l1.bytes} <= ${budget}`)
      }
    }
    const s = await stats()
    t.ok(s.l1.bytes <= budget && s.l1.bytes > budget / 2, `L1 holds ${s.l1.bytes} bytes`)
    t.ok(s.namespaces.views.evictions > 300, `evictions: ${s.namespaces.views.evictions}`)
    t.equal(s.namespaces.views.l1.bytes, s.l1.bytes)
    t.equal((await get('views', 'big-599')).source, 'l1', 'recent entries stay')
  })

  t.test('100 concurrent misses for one key run the loader once', async (t) => {
    const { app } = await cachedApp(t, env())
    let calls = 0
    const load = async () => {
      calls++
      await sleep(50)
      return JSON.stringify({ calls })
    }
    const results = await Promise.all(
      Array.from({ length: 100 }, () => app.cache.queries.getOrLoad('hot', load)),
    )
    t.equal(calls, 1)
    t.ok(results.every((r) => r.source === 'miss' && r.text === '{"calls":1}'))
    t.ok(
      results.every((r) => r.text === results[0]?.text),
      'every waiter gets the one text the load made',
    )
    t.equal((await app.cache.queries.getOrLoad('hot', load)).source, 'l1')
  })

  t.test('a failing loader fails every waiter and caches nothing', async (t) => {
    const { app } = await cachedApp(t, env())
    let calls = 0
    const failing = async () => {
      calls++
      await sleep(10)
      throw new Error('database down')
    }
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => app.cache.queries.getOrLoad('bad', failing)),
    )
    t.ok(results.every((r) => r.status === 'rejected'))
    t.equal(calls, 1)
    const ok = await app.cache.queries.getOrLoad('bad', async () => 'fine')
    t.same(ok, { text: 'fine', bytes: 4, source: 'miss' })
  })

  t.test('invalidate by key, tag and prefix', async (t) => {
    const { app, get } = await cachedApp(t, env())
    for (const id of ['note-1', 'note-2', 'list-a', 'list-b']) await get('queries', id)
    await app.cache.queries.invalidate({ keys: ['note-1'] })
    t.equal((await get('queries', 'note-1')).source, 'miss')
    t.equal((await get('queries', 'note-2')).source, 'l1', 'other keys stay')
    await app.cache.queries.invalidate({ tags: ['group:list'] })
    t.equal((await get('queries', 'list-a')).source, 'miss')
    t.equal((await get('queries', 'list-b')).source, 'miss')
    t.equal((await get('queries', 'note-2')).source, 'l1')
    await app.cache.queries.invalidate({ prefixes: ['note-'] })
    t.equal((await get('queries', 'note-1')).body.n, 3)
    t.equal((await get('queries', 'note-2')).body.n, 2)
    t.equal(
      (await get('views', 'note-2')).source,
      'miss',
      'other namespace untouched (never loaded)',
    )
  })

  t.test('a load that raced an invalidation is returned but not cached', async (t) => {
    const { app } = await cachedApp(t, env())
    let release: () => void = () => {}
    const gate = new Promise<void>((r) => {
      release = r
    })
    const pending = app.cache.queries.getOrLoad('k', async () => {
      await gate
      return 'old'
    })
    await sleep(10)
    await app.cache.queries.invalidate({ keys: ['k'] })
    const fresh = app.cache.queries.getOrLoad('k', async () => 'new')
    release()
    t.match(await pending, { text: 'old', source: 'miss' })
    t.match(
      await fresh,
      { text: 'new', source: 'miss' },
      'a read after the write does not join the old load',
    )
    t.match(await app.cache.queries.getOrLoad('k', async () => 'again'), {
      text: 'new',
      source: 'l1',
    })
  })
}

t.test('without Redis (L1 only)', async (t) => {
  tierTests(t, () => ({}))
  t.test('CACHE_L1=false without Redis: every read loads', async (t) => {
    const { get, stats } = await cachedApp(t, { CACHE_L1: 'false' })
    t.equal((await get('queries', 'a')).source, 'miss')
    t.equal((await get('queries', 'a')).source, 'miss')
    t.match((await stats()).namespaces.queries, { misses: 2, l1: { enabled: false } })
  })
})

// redis-only: start
t.test('with Redis (L1 + L2)', { skip: service.skip ?? false }, async (t) => {
  const url = service.url as string
  const probe = testClient(t, url)
  tierTests(t, () => ({ REDIS_URL: url, REDIS_KEY_PREFIX: randomPrefix() }))

  t.test('an L2 hit fills L1; values over the cap stay out of Redis', async (t) => {
    const prefix = randomPrefix()
    const env = { REDIS_URL: url, REDIS_KEY_PREFIX: prefix, CACHE_L2_MAX_VALUE_BYTES: '4096' }
    const a = await cachedApp(t, env)
    const b = await cachedApp(t, env)
    await acquainted(a, b)
    t.equal((await a.get('queries', 'x')).source, 'miss')
    t.equal(
      await probe.exists(`${prefix}:queries:k:x`),
      1,
      'stored in Redis under prefix:namespace',
    )
    t.ok((await probe.pttl(`${prefix}:queries:k:x`)) > 590_000, 'with the namespace TTL')
    t.same(await b.get('queries', 'x'), { source: 'l2', body: { id: 'x', n: 1, pad: '' } })
    t.equal((await b.get('queries', 'x')).source, 'l1', 'the L2 hit filled L1')
    t.equal((await a.get('queries', 'big', 8)).source, 'miss')
    t.equal(await probe.exists(`${prefix}:queries:k:big`), 0, 'over CACHE_L2_MAX_VALUE_BYTES')
    t.equal((await a.get('queries', 'big')).source, 'l1', 'still kept in L1')
    t.equal((await b.get('queries', 'big')).source, 'miss')
    t.match((await a.stats()).namespaces.queries.l2, { state: 'up', skippedTooLarge: 1 })
    t.match((await b.stats()).namespaces.queries, { hits: 2, l2: { hits: 1 } })
  })

  t.test('CACHE_L1=false: repeats come from L2', async (t) => {
    const { get } = await cachedApp(t, {
      REDIS_URL: url,
      REDIS_KEY_PREFIX: randomPrefix(),
      CACHE_L1: 'false',
    })
    t.equal((await get('views', 'a')).source, 'miss')
    t.equal((await get('views', 'a')).source, 'l2')
    t.equal((await get('views', 'a')).source, 'l2')
  })

  t.test('two instances: a write on A is seen on B, by key, tag and prefix', async (t) => {
    const env = { REDIS_URL: url, REDIS_KEY_PREFIX: randomPrefix() }
    const a = await cachedApp(t, env)
    const b = await cachedApp(t, env)
    await acquainted(a, b)
    for (const id of ['note-1', 'note-2', 'list-a']) {
      await a.get('queries', id)
      t.equal((await b.get('queries', id)).source, 'l2')
      t.equal((await b.get('queries', id)).source, 'l1')
    }
    const seenOnB = async (id: string) => {
      const started = Date.now()
      const ok = await eventually(async () => (await b.get('queries', id)).source === 'miss')
      t.ok(ok, `${id} dropped on B after ${Date.now() - started} ms`)
    }
    await a.app.cache.queries.invalidate({ keys: ['note-1'] })
    await seenOnB('note-1')
    await a.app.cache.queries.invalidate({ tags: ['group:list'] })
    await seenOnB('list-a')
    await a.app.cache.queries.invalidate({ prefixes: ['note-2'] })
    await seenOnB('note-2')
    // B stores what it reloads in L2 while it trusts it: on a loaded machine a late heartbeat
    // can distrust it for a moment (src/cache/redis-coherence.ts), so this waits for the state.
    t.ok(
      await eventually(async () => {
        await b.get('queries', 'note-2')
        return (await probe.exists(`${env.REDIS_KEY_PREFIX}:queries:k:note-2`)) === 1
      }, 10_000),
      'B reloaded it',
    )
  })

  t.test('L2 refuses a value loaded before an invalidation it did not hear of', async (t) => {
    const { app } = await cachedApp(t, { REDIS_URL: url, REDIS_KEY_PREFIX: randomPrefix() })
    const redis = app.redis as NonNullable<App['redis']>
    const l2 = new RedisL2(redis.open('test'), redis)
    await sleep(100)
    const before = await l2.get('queries', 'r')
    t.equal(before.raw, null)
    await l2.invalidate('queries', { keys: ['r'] })
    t.equal(await l2.set('queries', 'r', '"stale"', 60_000, [], before.epoch), false)
    const after = await l2.get('queries', 'r')
    t.equal(after.raw, null)
    t.equal(await l2.set('queries', 'r', '"fresh"', 60_000, ['tag'], after.epoch), true)
    t.equal((await l2.get('queries', 'r')).raw, '"fresh"')
  })
})
// redis-only: end
