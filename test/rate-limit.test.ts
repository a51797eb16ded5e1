import type { FastifyPluginAsync } from 'fastify'
import t, { type Test } from 'tap'
import { buildTestApp } from './helpers/app.js'
import { hungRedis, randomPrefix } from './helpers/redis.js' // redis-only
import { redis as redisService } from './helpers/services.js' // redis-only

const service = await redisService() // redis-only

const apiRoute: FastifyPluginAsync = async (app) => {
  app.get('/api/ping', async () => ({ pong: true }))
}

async function limitedApp(t: Test, env: Record<string, string> = {}) {
  return buildTestApp(t, { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW: '1 minute', ...env }, apiRoute)
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
  t.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After: ${retryAfter}`)
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

  t.test('instances share the counters', async (t) => {
    const env = { REDIS_URL: url, REDIS_KEY_PREFIX: randomPrefix() }
    const a = await limitedApp(t, env)
    const b = await limitedApp(t, env)
    t.equal((await a.inject('/api/ping')).statusCode, 200)
    t.equal((await b.inject('/api/ping')).statusCode, 200)
    t.equal((await a.inject('/api/ping')).statusCode, 200)
    const res = await b.inject('/api/ping')
    t.equal(res.statusCode, 429, 'the fourth request, across both instances, is limited')
    t.ok(Number(res.headers['retry-after']) > 0)
  })

  t.test('Redis not answering: still limited, in memory, and prompt', async (t) => {
    const app = await limitedApp(t, {
      REDIS_URL: await hungRedis(t),
      REDIS_KEY_PREFIX: randomPrefix(),
    })
    const started = performance.now()
    const codes = []
    for (let i = 0; i < 5; i++) codes.push((await app.inject('/api/ping')).statusCode)
    t.same(codes, [200, 200, 200, 429, 429])
    t.ok(performance.now() - started < 1000, 'no request waits on the hung server')
  })
})
// redis-only: end
