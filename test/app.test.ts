import type { FastifyPluginAsync } from 'fastify'
import t from 'tap'
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../src/plugins/json-body.js'
import testRoutes from './fixtures/test-routes.js'
import { buildAppOnFileDatabase } from './helpers/app.js'
import { assertUnavailable } from './helpers/http.js'

const json = { 'content-type': 'application/json' }

t.test('GET /healthz answers ok', async (t) => {
  const app = await buildAppOnFileDatabase(t)
  const res = await app.inject('/healthz')
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok' })
})

t.test('GET /readyz reports dependency states', async (t) => {
  const app = await buildAppOnFileDatabase(t)
  const res = await app.inject('/readyz')
  t.equal(res.statusCode, 200)
  t.equal(res.json().ready, true)
  t.type(res.json().dependencies, 'object')
})

t.test('GET /readyz is 503 naming a required dependency that is down', async (t) => {
  const app = await buildAppOnFileDatabase(t)
  app.probes.addReadiness('flaky', async () => ({ status: 'down', error: 'refused' }))
  app.probes.addReadiness('optional', async () => ({ status: 'down' }), { required: false })
  app.probes.addReadiness('broken', async () => {
    throw new Error('boom')
  })
  const res = await app.inject('/readyz')
  t.equal(res.statusCode, 503)
  const body = res.json()
  t.equal(body.ready, false)
  t.match(body.dependencies.flaky, { status: 'down', required: true, error: 'refused' })
  t.match(body.dependencies.optional, { status: 'down', required: false })
  t.match(body.dependencies.broken, { status: 'down', error: 'boom' })
})

t.test('GET /status shows the memory plan and live usage', async (t) => {
  const app = await buildAppOnFileDatabase(t)
  app.probes.addStatus('extra', () => ({ answer: 42 }))
  const res = await app.inject('/status')
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.memory.plan.limitMb, 512)
  t.equal(body.memory.plan.source, 'MEMORY_LIMIT_MB')
  t.ok(body.memory.usageMb.rss > 0)
  t.ok(body.memory.heapSizeLimitBytes > 0)
  t.equal(body.versions.node, process.versions.node)
  t.same(body.extra, { answer: 42 })
})

t.test('GET /status requires the bearer token when STATUS_TOKEN is set', async (t) => {
  const token = 'a-long-enough-status-token'
  const app = await buildAppOnFileDatabase(t, { STATUS_TOKEN: token })
  const missing = await app.inject('/status')
  t.equal(missing.statusCode, 401)
  t.equal(missing.headers['www-authenticate'], 'Bearer')
  t.equal(missing.json().error, 'Unauthorized')
  t.equal(
    (await app.inject({ url: '/status', headers: { authorization: 'Bearer wrong' } })).statusCode,
    401,
  )
  const ok = await app.inject({ url: '/status', headers: { authorization: `Bearer ${token}` } })
  t.equal(ok.statusCode, 200)
})

t.test('unknown routes get a JSON 404', async (t) => {
  const app = await buildAppOnFileDatabase(t)
  const res = await app.inject('/no/such/route?x=1')
  t.equal(res.statusCode, 404)
  t.same(res.json(), {
    statusCode: 404,
    error: 'Not Found',
    message: 'Route GET /no/such/route not found',
  })
})

t.test('bad input gets a 400 naming the field and the rule', async (t) => {
  const app = await buildAppOnFileDatabase(t, {}, testRoutes)
  const res = await app.inject('/__test/slow?ms=abc')
  t.equal(res.statusCode, 400)
  const body = res.json()
  t.equal(body.error, 'Bad Request')
  t.same(body.issues, [
    { field: 'querystring/ms', rule: 'type', message: 'querystring/ms must be integer' },
  ])
  const missing = await app.inject('/__test/slow')
  t.match(missing.json().issues, [{ field: 'querystring/ms', rule: 'required' }])
})

t.test('malformed JSON is a 400, a body over 1 MiB a 413', async (t) => {
  const app = await buildAppOnFileDatabase(t, {}, testRoutes)
  const bad = await app.inject({
    method: 'POST',
    url: '/__test/leak?mb=1',
    headers: { 'content-type': 'application/json' },
    payload: '{"nope":',
  })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().error, 'Bad Request')
  const big = await app.inject({
    method: 'POST',
    url: '/__test/leak?mb=1',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ x: 'y'.repeat(1024 * 1024) }),
  })
  t.equal(big.statusCode, 413)
  t.equal(big.json().error, 'Payload Too Large')
})

t.test('JSON nested deeper than the bound is refused before parsing', async (t) => {
  t.notOk(nestsDeeperThan('{"a":[{"b":[]}]}', 4))
  t.ok(nestsDeeperThan('[[[[[]]]]]', 4))
  t.notOk(nestsDeeperThan('["[[[[[[", "\\"[[[[[["]', 2), 'brackets in strings do not count')
  const app = await buildAppOnFileDatabase(t, {}, async (app) => {
    app.post('/t/echo', async (request) => ({ got: request.body }))
  })
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`
  const ok = await app.inject({
    method: 'POST',
    url: '/t/echo',
    headers: json,
    payload: nested(MAX_JSON_DEPTH),
  })
  t.equal(ok.statusCode, 200, 'at the bound')
  const deep = await app.inject({
    method: 'POST',
    url: '/t/echo',
    headers: json,
    payload: nested(450_000),
  })
  t.equal(deep.statusCode, 400)
  t.match(deep.json().issues, [{ field: 'body', rule: 'maxDepth' }])
  const poisoned = await app.inject({
    method: 'POST',
    url: '/t/echo',
    headers: json,
    payload: '{"__proto__":{"x":1}}',
  })
  t.equal(poisoned.statusCode, 400, "Fastify's prototype-poisoning check still applies")
})

t.test(
  'a value Postgres refuses is a 400, never a 500, even where no field is named',
  async (t) => {
    const app = await buildAppOnFileDatabase(t, {}, async (app) => {
      app.get('/t/cast', async (request) => {
        const { v } = request.query as { v: string }
        return (await app.db.query('SELECT $1::int AS n', [v])).rows[0]
      })
    })
    t.same((await app.inject('/t/cast?v=7')).json(), { n: 7 })
    const res = await app.inject('/t/cast?v=seven')
    t.equal(res.statusCode, 400)
    t.match(res.json(), {
      error: 'Bad Request',
      issues: [{ field: 'request', rule: 'sqlstate 22P02' }],
    })
  },
)

t.test(
  'errors: 5xx hide internals in production, dependency outages name the dependency',
  async (t) => {
    const { DependencyUnavailableError } = await import('../src/errors.js')
    const app = await buildAppOnFileDatabase(t, { NODE_ENV: 'production' }, async (app) => {
      app.get('/boom', async () => {
        throw new Error('secret SQL: SELECT * FROM users')
      })
      app.get('/down', async () => {
        throw new DependencyUnavailableError('postgres', 'database unavailable')
      })
    })
    const boom = await app.inject('/boom')
    t.equal(boom.statusCode, 500)
    t.same(boom.json(), {
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'Internal Server Error',
    })
    t.notMatch(boom.body, /secret|stack/)
    assertUnavailable(t, await app.inject('/down'), {
      dependency: 'postgres',
      retryAfter: '5',
      message: 'database unavailable',
    })
  },
)

t.test('the client address comes only from trusted proxy hops', async (t) => {
  const ipRoute: FastifyPluginAsync = async (app) => {
    app.get('/ip', async (request) => ({ ip: request.ip }))
  }
  const trusting = await buildAppOnFileDatabase(t, { TRUST_PROXY_HOPS: '2' }, ipRoute)
  const viaProxies = await trusting.inject({
    url: '/ip',
    headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.7, 198.51.100.1' },
  })
  // socket (Render's proxy) -> 198.51.100.1 (Cloudflare) -> 203.0.113.7 (the client); 6.6.6.6 is forged.
  t.equal(viaProxies.json().ip, '203.0.113.7')
  const direct = await buildAppOnFileDatabase(t, {}, ipRoute)
  const forged = await direct.inject({ url: '/ip', headers: { 'x-forwarded-for': '6.6.6.6' } })
  t.equal(forged.json().ip, '127.0.0.1')
})
