import { setTimeout as sleep } from 'node:timers/promises'
import pino from 'pino'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { PRODUCTION_REQUEST_LOG_SAMPLE } from '../src/config.js'
import { loggerOptions } from '../src/logger.js'
import { testConfig, testPlan } from './helpers/config.js'
import { fileDatabase } from './helpers/database.js'
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
    const config = testConfig({ LOG_LEVEL: 'info', DATABASE_URL: (await fileDatabase()).url })
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

t.test('sampled: errors and slow requests always, one ordinary request in 1/sample', async (t) => {
  const { lines, stream } = capture()
  const config = testConfig({
    LOG_LEVEL: 'info',
    REQUEST_LOG_SAMPLE: '0.25',
    REQUEST_LOG_SLOW_MS: '200',
    DATABASE_URL: (await fileDatabase()).url,
  })
  const app = await buildApp({
    config,
    plan: testPlan(config),
    logger: { level: 'info', stream },
    plugins: [
      async (app) => {
        app.get('/ok', async () => 'ok')
        app.get('/boom', async () => {
          throw new Error('boom')
        })
        app.get('/slow', async () => {
          await sleep(250)
          return 'slow'
        })
      },
    ],
  })
  t.teardown(() => app.close())
  for (let i = 0; i < 8; i++) await app.inject('/ok')
  await app.inject('/boom')
  await app.inject('/slow')
  const requests = lines.filter((l) => typeof l.url === 'string')
  t.same(
    requests.map((l) => [l.url, l.level, l.sampled]),
    [
      ['/ok', 30, 4],
      ['/ok', 30, 4],
      ['/boom', 50, undefined],
      ['/slow', 40, undefined],
    ],
    'two of eight ordinary requests (marked sampled: 4), the error, the slow one',
  )
  t.match(
    lines.find((l) => l.url === '/boom'),
    { msg: 'request errored', statusCode: 500 },
  )
  t.ok(
    lines.some((l) => (l.err as { message?: string } | undefined)?.message === 'boom'),
    "the error itself is logged with its stack (the error handler's line)",
  )
})

t.test('the sample rate defaults: every request outside production, 1% in it', async (t) => {
  t.equal(testConfig().requestLogSample, 1)
  t.equal(
    testConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://x@h/db' }).requestLogSample,
    PRODUCTION_REQUEST_LOG_SAMPLE,
  )
  t.equal(PRODUCTION_REQUEST_LOG_SAMPLE, 0.01)
  t.equal(testConfig({ REQUEST_LOG_SAMPLE: '0' }).requestLogSample, 0)
  t.throws(() => testConfig({ REQUEST_LOG_SAMPLE: '2' }), /REQUEST_LOG_SAMPLE/)
})
