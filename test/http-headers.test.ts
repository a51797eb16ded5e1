import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'
import { buildAppOnFileDatabase } from './helpers/app.js'

const ALLOWED = 'https://app.example.com'

t.test('security headers on every response, set for a JSON API', async (t) => {
  const app = await buildAppOnFileDatabase(t)
  for (const url of ['/healthz', '/api/nowhere']) {
    const res = await app.inject(url)
    t.match(
      res.headers,
      {
        'content-security-policy': "default-src 'none';frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
        'strict-transport-security': /max-age=\d+/,
        'referrer-policy': 'no-referrer',
        'cross-origin-resource-policy': 'same-origin',
        'x-frame-options': 'SAMEORIGIN',
      },
      url,
    )
    t.notOk(res.headers['x-powered-by'])
  }
  const off = await buildAppOnFileDatabase(t, { SECURITY_HEADERS: 'false' })
  const plain = await off.inject('/healthz')
  t.notOk(plain.headers['content-security-policy'], 'SECURITY_HEADERS=false: none')
  t.notOk(plain.headers['strict-transport-security'])
})

t.test('CORS is off unless CORS_ORIGINS lists the origin', async (t) => {
  const closed = await buildAppOnFileDatabase(t)
  const res = await closed.inject({ url: '/healthz', headers: { origin: ALLOWED } })
  t.equal(res.statusCode, 200)
  t.notOk(res.headers['access-control-allow-origin'], 'same-origin only by default')
  const preflight = await closed.inject({
    method: 'OPTIONS',
    url: '/healthz',
    headers: { origin: ALLOWED, 'access-control-request-method': 'GET' },
  })
  t.notOk(preflight.headers['access-control-allow-origin'], 'no preflight answer either')

  const open = await buildAppOnFileDatabase(t, {
    CORS_ORIGINS: `${ALLOWED}, http://localhost:5173`,
  })
  const allowed = await open.inject({ url: '/healthz', headers: { origin: ALLOWED } })
  t.equal(allowed.headers['access-control-allow-origin'], ALLOWED, 'an allowed origin')
  t.match(allowed.headers.vary, /Origin/)
  t.match(allowed.headers['access-control-expose-headers'], /x-cache/)
  const refused = await open.inject({
    url: '/healthz',
    headers: { origin: 'https://evil.example' },
  })
  t.equal(refused.statusCode, 200, 'the server answers; the browser withholds it')
  t.notOk(refused.headers['access-control-allow-origin'], 'a refused origin')
  const ok = await open.inject({
    method: 'OPTIONS',
    url: '/healthz',
    headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'PATCH' },
  })
  t.equal(ok.statusCode, 204, 'a preflight')
  t.equal(ok.headers['access-control-allow-origin'], 'http://localhost:5173')
  t.match(ok.headers['access-control-allow-methods'], /PATCH/)
  t.equal(ok.headers['access-control-max-age'], '600')
})

t.test('CORS_ORIGINS must be origins', async (t) => {
  const error = t.throws(() =>
    loadConfig({ CORS_ORIGINS: 'https://ok.example, https://bad.example/path, *' }),
  ) as ConfigError
  t.type(error, ConfigError)
  t.equal(error.problems.length, 2)
  t.match(error.problems[0], /CORS_ORIGINS: got "https:\/\/bad.example\/path"/)
  t.same(loadConfig({ CORS_ORIGINS: ' https://a.example ,' }).corsOrigins, ['https://a.example'])
  t.same(loadConfig({}).corsOrigins, [])
})
