import pino from 'pino'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { loggerOptions } from '../src/logger.js'
import { testConfig, testPlan } from './helpers/config.js'
import { testDatabase } from './helpers/database.js'
import { captureLogs as capture } from './helpers/logs.js'

t.test('pretty output only in development on a TTY', async (t) => {
  const dev = { LOG_LEVEL: 'info', NODE_ENV: 'development' } as const
  t.match(loggerOptions(dev, true), { transport: { target: 'pino-pretty' } })
  t.notOk((loggerOptions(dev, false) as { transport?: unknown }).transport, 'not when piped')
  const prod = { LOG_LEVEL: 'info', NODE_ENV: 'production' } as const
  t.notOk((loggerOptions(prod, true) as { transport?: unknown }).transport, 'never in production')
})

t.test('credentials in logged headers are redacted', async (t) => {
  const { lines, stream } = capture()
  const options = loggerOptions({ LOG_LEVEL: 'info', NODE_ENV: 'production' }, false)
  const log = pino(options as pino.LoggerOptions, stream)
  log.info({
    req: { headers: { authorization: 'Bearer secret', cookie: 'sid=secret', accept: '*/*' } },
  })
  t.same(lines[0]?.req, {
    headers: { authorization: '[redacted]', cookie: '[redacted]', accept: '*/*' },
  })
})

t.test(
  'one line per request with method, url, status, time, address and the cf-ray id',
  async (t) => {
    const { lines, stream } = capture()
    const config = testConfig({ LOG_LEVEL: 'info', DATABASE_URL: (await testDatabase(t)).url })
    const app = await buildApp({
      config,
      plan: testPlan(config),
      logger: { level: 'info', stream },
    })
    t.teardown(() => app.close())
    await app.inject({ url: '/readyz', headers: { 'cf-ray': '8f1d2c3b4a596877-AMS' } })
    await app.inject({ url: '/healthz' })
    const requests = lines.filter((l) => l.msg === 'request completed')
    t.equal(requests.length, 1, 'health checks are not logged at info; one line for /readyz')
    t.match(requests[0], {
      reqId: '8f1d2c3b4a596877-AMS',
      method: 'GET',
      url: '/readyz',
      statusCode: 200,
      responseTimeMs: Number,
      ip: '127.0.0.1',
    })
    t.notOk(
      lines.some((l) => l.msg === 'incoming request'),
      'no separate incoming line',
    )
  },
)
