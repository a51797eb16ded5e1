import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify from 'fastify'
import t from 'tap'
import cache from '../src/plugins/cache.js'
import probes from '../src/plugins/probes.js'
import rateLimiting from '../src/plugins/rate-limit.js'
import redis, { RedisBudgetError } from '../src/plugins/redis.js'
import redisCache from '../src/plugins/redis-cache.js'
import redisRateLimit from '../src/plugins/redis-rate-limit.js'
import { CircuitBreaker, CircuitOpenError } from '../src/redis/breaker.js'
import { buildAppOnFileDatabase } from './helpers/app.js'
import { testConfig, testPlan } from './helpers/config.js'
import { captureLogs } from './helpers/logs.js'
import { clientNames, hungRedis, randomPrefix, testClient } from './helpers/redis.js'
import { redis as redisService } from './helpers/services.js'
import { tcpProxy } from './helpers/tcp-proxy.js'
import { waitFor } from './helpers/wait.js'

t.test('circuit breaker: opens on failure, fails fast, one trial, closes on success', async (t) => {
  let now = 0
  const breaker = new CircuitBreaker(
    1000,
    (e) => (e as Error).message !== 'reply',
    () => now,
  )
  const fail = () => Promise.reject(new Error('timeout'))
  await t.rejects(breaker.run(fail), /timeout/)
  t.equal(breaker.state, 'open')
  let called = false
  await t.rejects(
    breaker.run(async () => {
      called = true
    }),
    CircuitOpenError,
  )
  t.notOk(called, 'an open circuit does not call through')
  now = 1000
  t.equal(breaker.state, 'half-open')
  let release = () => {}
  const trial = breaker.run(() => new Promise<string>((r) => (release = () => r('ok'))))
  await t.rejects(
    breaker.run(async () => 'other'),
    CircuitOpenError,
    'one trial at a time',
  )
  release()
  t.equal(await trial, 'ok')
  t.equal(breaker.state, 'closed')
  await t.rejects(
    breaker.run(() => Promise.reject(new Error('reply'))),
    /reply/,
  )
  t.equal(breaker.state, 'closed', 'an answer from the server is not an outage')
  t.match(breaker.stats(), { state: 'closed', failures: 1, lastError: 'timeout' })
})

t.test('without REDIS_URL: no connections, no readiness entry, local cache', async (t) => {
  const app = await buildAppOnFileDatabase(t)
  t.equal(app.redis, null)
  const ready = await app.inject('/readyz')
  t.notOk(ready.json().dependencies.redis)
  const status = (await app.inject('/status')).json()
  t.notOk(status.redis)
  t.equal(status.cache.invalidation, 'local')
  t.equal(status.cache.namespaces.queries.l2.state, 'disabled')
})

const service = await redisService()

t.test('with Redis', { skip: service.skip ?? false }, async (t) => {
  const url = service.url as string
  const probe = testClient(t, url)

  t.test('every connection is named and counted; the 11th is refused clearly', async (t) => {
    const prefix = randomPrefix()
    const app = await buildAppOnFileDatabase(t, { REDIS_URL: url, REDIS_KEY_PREFIX: prefix })
    const names = await clientNames(probe, prefix)
    t.equal(names.length, 3)
    for (const role of ['cache', 'invalidation', 'rate-limit']) {
      t.ok(
        names.some((n) => n === `${prefix}:${app.redis?.instanceId}:${role}`),
        `${role} connection named`,
      )
    }
    const redis = app.redis
    if (!redis) throw new Error('redis expected')
    const extra = Array.from({ length: 7 }, (_, i) => redis.open(`extra-${i}`))
    await Promise.all(extra.map((c) => once(c, 'ready')))
    t.throws(() => redis.open('eleventh'), RedisBudgetError)
    t.throws(
      () => redis.open('eleventh'),
      /REDIS_MAX_CONNECTIONS=10 reached: cannot open Redis connection "eleventh"/,
    )
    t.equal((await clientNames(probe, prefix)).length, 10, 'ten open, never eleven')
    const status = (await app.inject('/status')).json()
    t.equal(status.redis.connections.length, 10)
    t.equal(status.redis.budget, 10)
    t.match((await app.inject('/readyz')).json().dependencies.redis, {
      status: 'up',
      required: false,
    })
    await app.close()
    t.same(await clientNames(probe, prefix), [], 'onClose closes every connection')
  })

  t.test('a budget too small for the plugins stops the start with a clear error', async (t) => {
    // Only the Redis users (no database): a failed start must not leave anything open.
    const config = testConfig({ REDIS_URL: url, REDIS_MAX_CONNECTIONS: '2' })
    const app = Fastify({ logger: false })
    app.decorate('config', config)
    app.decorate('memoryPlan', testPlan(config))
    const start = async () => {
      await app.register(probes)
      await app.register(redis)
      await app.register(redisCache)
      await app.register(cache)
      await app.register(redisRateLimit)
      await app.register(rateLimiting)
    }
    await t.rejects(
      start(),
      /REDIS_MAX_CONNECTIONS=2 reached: cannot open Redis connection "rate-limit"/,
    )
  })

  t.test('200 concurrent requests stay within the connection budget', async (t) => {
    const prefix = randomPrefix()
    let loads = 0
    const app = await buildAppOnFileDatabase(
      t,
      { REDIS_URL: url, REDIS_KEY_PREFIX: prefix, REDIS_MAX_CONNECTIONS: '3', CACHE_L1: 'false' },
      async (app) => {
        app.get<{ Params: { id: string } }>('/api/item/:id', async (request, reply) => {
          const cached = await app.cache.queries.getOrLoad(request.params.id, async () => {
            loads++
            return JSON.stringify({ id: request.params.id })
          })
          return reply.sendCached(cached)
        })
      },
    )
    let peak = 0
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, (await clientNames(probe, prefix)).length)
        await new Promise((r) => setTimeout(r, 5))
      }
    })()
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) => app.inject(`/api/item/${i % 20}`)),
    )
    sampling = false
    await sampler
    t.ok(
      responses.every((r) => r.statusCode === 200),
      'all 200',
    )
    t.ok(loads >= 20 && loads <= 200, `loads: ${loads}`)
    t.ok(peak > 0 && peak <= 3, `peak connections ${peak} within REDIS_MAX_CONNECTIONS=3`)
  })

  t.test('the handshake may outlast the command timeout; commands after it may not', async (t) => {
    // As at 0.1 CPU, where the handshake's replies wait for the process's next CPU slice: the
    // proxy holds the handshake for five command timeouts, then lets it through.
    const proxy = await tcpProxy(t, Number(new URL(url).port || 6379))
    const { lines, stream } = captureLogs()
    const app = Fastify({ logger: { level: 'info', stream } })
    app.decorate(
      'config',
      testConfig({
        REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
        REDIS_KEY_PREFIX: randomPrefix(),
        REDIS_COMMAND_TIMEOUT_MS: '100',
      }),
    )
    await app.register(probes)
    await app.register(redis)
    let client: ReturnType<NonNullable<typeof app.redis>['open']> | undefined
    await app.register(async (app) => {
      client = app.redis?.open('handshake')
    })
    t.teardown(() => app.close())
    proxy.hold('setname')
    await app.ready()
    if (!client) throw new Error('a connection expected')
    await waitFor(() => proxy.held > 0, 'the handshake held')
    await sleep(500)
    const ready = once(client, 'ready')
    proxy.release()
    await ready
    t.same(
      lines.filter((l) => (l.level as number) >= 40),
      [],
      'no "redis unreachable": a slow handshake is not an outage',
    )
    proxy.hold('ping')
    await t.rejects(client.ping(), /Command timed out/, 'once ready, a command has 100 ms')
    proxy.release()
  })

  t.test(
    'a Redis that accepts and never answers: the app starts and answers without it',
    async (t) => {
      // Nothing here ever gets a reply from Redis: only the command timeout and the breaker let
      // the start, the requests and the invalidation finish (a regression hangs the test until
      // its timeout fails it; no wall-clock bound needed).
      const hung = await hungRedis(t)
      let loads = 0
      const app = await buildAppOnFileDatabase(
        t,
        { REDIS_URL: hung, REDIS_KEY_PREFIX: randomPrefix(), RATE_LIMIT_MAX: '1000' },
        async (app) => {
          app.get<{ Params: { id: string } }>('/api/item/:id', async (request, reply) => {
            const cached = await app.cache.queries.getOrLoad(request.params.id, async () => {
              loads++
              return JSON.stringify({ id: request.params.id })
            })
            return reply.sendCached(cached)
          })
        },
      )
      for (let i = 0; i < 30; i++) {
        t.equal((await app.inject(`/api/item/${i % 5}`)).statusCode, 200)
      }
      t.equal(loads, 5, 'L1 still serves repeats')
      const ready = (await app.inject('/readyz')).json()
      t.equal(ready.ready, true, 'an optional dependency does not fail readiness')
      t.equal(ready.dependencies.redis.status, 'down')
      await app.cache.queries.invalidate({ keys: ['1'] })
      t.equal((await app.inject('/api/item/1')).headers['x-cache'], 'miss')
    },
  )
})
