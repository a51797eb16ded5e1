/**
 * Load shedding: the gauge's readings and limits on an injected clock, then the plugin on a real
 * Fastify with the app's error shape: 503 + Retry-After naming what is over, `shedding: false`
 * routes still answering, and recovery once a sample is back under the limits.
 */
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import type { MemoryPlan } from '../src/memory.js'
import errors from '../src/plugins/errors.js'
import loadShedding from '../src/plugins/load-shedding.js'
import { PressureGauge, type PressureLimits } from '../src/pressure.js'
import { testConfig, testPlan } from './helpers/config.js'
import { waitFor } from './helpers/wait.js'

const MB = 1024 * 1024
const NONE: PressureLimits = { maxRssBytes: 0, maxHeapUsedBytes: 0, maxEventLoopDelayMs: 0 }

function gaugeWith(limits: Partial<PressureLimits>) {
  const clock = { now: 0 }
  const memory = { rss: 100 * MB, heapUsed: 20 * MB }
  const gauge = new PressureGauge(
    { ...NONE, ...limits },
    1000,
    () => memory,
    () => clock.now,
  )
  return { gauge, clock, memory }
}

t.test('the event-loop delay is how late the sample ran', async (t) => {
  const { gauge, clock } = gaugeWith({ maxEventLoopDelayMs: 500 })
  gauge.sample()
  t.equal(gauge.readings.eventLoopDelayMs, 0, 'the first sample, at once, is not late')
  clock.now = 1002
  gauge.sample()
  t.equal(gauge.readings.eventLoopDelayMs, 2)
  t.equal(gauge.pressure, undefined, 'a little late is not pressure')
  clock.now = 2002 + 700
  gauge.sample()
  t.equal(gauge.readings.eventLoopDelayMs, 700)
  t.match(gauge.pressure, { dependency: 'cpu', message: /event-loop delay 700 ms is over 500 ms/ })
  clock.now = 3700
  gauge.sample()
  t.equal(gauge.readings.eventLoopDelayMs, 0, 'due again one interval after the late sample')
  t.equal(gauge.pressure, undefined, 'back under: no more shedding')
})

t.test('the first sample is due one interval after the gauge starts', async (t) => {
  const { gauge, clock } = gaugeWith({ maxEventLoopDelayMs: 500 })
  clock.now = 1000
  gauge.sample()
  t.equal(gauge.readings.eventLoopDelayMs, 0, 'one interval after it was made: on time')
  clock.now = 60_000
  gauge.start()
  clock.now = 61_003
  gauge.sample()
  t.equal(gauge.readings.eventLoopDelayMs, 3, 'the time before start is not lateness')
  t.equal(gauge.pressure, undefined)
})

t.test('heap and RSS limits; 0 checks nothing', async (t) => {
  const heap = gaugeWith({ maxHeapUsedBytes: 10 * MB, maxRssBytes: 50 * MB })
  heap.gauge.sample()
  t.match(heap.gauge.pressure, { dependency: 'memory', message: /heap in use 20 MB is over 10 MB/ })
  heap.memory.heapUsed = 5 * MB
  heap.gauge.sample()
  t.match(heap.gauge.pressure, { dependency: 'memory', message: /RSS 100 MB is over 50 MB/ })

  const none = gaugeWith({})
  none.memory.rss = 10_000 * MB
  none.clock.now = 1_001_000
  none.gauge.sample()
  t.equal(none.gauge.pressure, undefined, 'no limit set: never sheds')
  t.same(none.gauge.readings, {
    rssBytes: 10_000 * MB,
    heapUsedBytes: 20 * MB,
    eventLoopDelayMs: 1_000_000,
  })
})

/** The plugin between the app's error handler and two routes, one of them never shed. */
async function shedApp(t: Test, env: Record<string, string>, plan: Partial<MemoryPlan> = {}) {
  const config = testConfig(env)
  const app = Fastify()
  app.decorate('config', config)
  app.decorate('memoryPlan', { ...testPlan(config), ...plan })
  await app.register(errors)
  await app.register(loadShedding, { sampleMs: 20 })
  app.get('/work', async () => 'done')
  app.get('/live', { config: { shedding: false } }, async () => 'ok')
  t.teardown(() => app.close())
  await app.ready()
  return app
}

/** GET /work until it answers other than `status`; the gauge samples every 20 ms. */
async function workUntilNot(app: Awaited<ReturnType<typeof shedApp>>, status: number) {
  let res = await app.inject('/work')
  await waitFor(async () => {
    if (res.statusCode === status) res = await app.inject('/work')
    return res.statusCode !== status
  }, `GET /work to answer other than ${status}`)
  return res
}

t.test(
  'over the heap limit: 503 + Retry-After naming memory; shedding: false answers',
  async (t) => {
    const app = await shedApp(t, {}, { shedHeapUsedBytes: 1 })
    const shed = await workUntilNot(app, 200)
    t.equal(shed.statusCode, 503)
    t.equal(shed.headers['retry-after'], '10')
    t.match(shed.json(), {
      statusCode: 503,
      error: 'Service Unavailable',
      dependency: 'memory',
      message: /heap in use \d+ MB is over 0 MB/,
    })
    t.equal((await app.inject('/live')).statusCode, 200)
    t.ok(app.pressure.pressure, 'the gauge says why')
  },
)

t.test('over the RSS limit only when the limit was configured or detected', async (t) => {
  const configured = await shedApp(t, {}, { shedRssBytes: 1 })
  t.match((await workUntilNot(configured, 200)).json(), { dependency: 'memory', message: /RSS/ })
  const assumed = await shedApp(t, {}, { shedRssBytes: 1, source: 'default' })
  await waitFor(() => assumed.pressure.readings.rssBytes > 0, 'the first sample')
  t.ok(assumed.pressure.readings.rssBytes > 1, 'sampled, over the limit')
  t.equal((await assumed.inject('/work')).statusCode, 200, 'an assumed limit guards nothing')
})

t.test('a blocked event loop sheds until a sample is back under the limit', async (t) => {
  const app = await shedApp(t, { EVENT_LOOP_DELAY_MAX_MS: '200' })
  const blockedUntil = performance.now() + 500
  while (performance.now() < blockedUntil) {
    // Busy: the sampling timer cannot run, as under a long synchronous task.
  }
  // The sample that runs late is the next timer to fire: wait for it, however long it takes.
  const shed = await workUntilNot(app, 200)
  t.equal(shed.statusCode, 503)
  t.match(shed.json(), { dependency: 'cpu', message: /event-loop delay \d+ ms is over 200 ms/ })
  t.equal((await app.inject('/live')).statusCode, 200, 'liveness answers meanwhile')
  t.equal((await workUntilNot(app, 503)).statusCode, 200, 'served again once the loop keeps up')
})

t.test('a long boot after the plugin registers is not a late sample', async (t) => {
  const config = testConfig({ EVENT_LOOP_DELAY_MAX_MS: '500' })
  const app = Fastify()
  app.decorate('config', config)
  app.decorate('memoryPlan', testPlan(config))
  await app.register(errors)
  await app.register(loadShedding, { sampleMs: 20 })
  // A later plugin keeps the loop busy, as boot does at 0.1 CPU (module evaluation, schemas).
  await app.register(async () => {
    const blockedUntil = performance.now() + 800
    while (performance.now() < blockedUntil) {
      // Busy.
    }
  })
  app.get('/work', async () => 'done')
  t.teardown(() => app.close())
  await app.ready()
  await waitFor(() => app.pressure.readings.rssBytes > 0, 'the first sample')
  t.equal(app.pressure.pressure, undefined, 'the first sample was on time')
  t.equal((await app.inject('/work')).statusCode, 200)
})
