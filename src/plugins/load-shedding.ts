import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { DependencyUnavailableError } from '../errors.js'
import { type Pressure, PressureGauge } from '../pressure.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** RSS, heap and event-loop delay as load shedding last read them, and why it sheds now. */
    pressure: PressureGauge
  }
  interface FastifyContextConfig {
    /** false: the route keeps answering while the process sheds load. */
    shedding?: boolean
  }
}

export interface LoadSheddingOptions {
  /** How often RSS, heap and event-loop delay are read (tests shorten it). */
  sampleMs?: number
}

const SAMPLE_MS = 1000
const RETRY_AFTER_SECONDS = 10

/**
 * Sheds load with 503 + Retry-After before the kernel kills the process: thresholds come from
 * the memory plan (RSS and heap) plus event-loop delay (EVENT_LOOP_DELAY_MAX_MS), read once a
 * second (src/pressure.ts). Routes opt out with `config.shedding: false` (liveness must keep
 * answering while the process sheds).
 */
async function loadShedding(app: FastifyInstance, options: LoadSheddingOptions) {
  const plan = app.memoryPlan
  // An assumed limit (none detected, none configured) guards nothing: no OOM killer waits at
  // 512 MB on a laptop, and the embedded database alone can pass that. The heap limit is real.
  const rssIsLimited = plan.source !== 'default'
  if (!rssIsLimited) app.log.info('no memory limit detected: shedding by heap and event loop only')
  const sampleMs = options.sampleMs ?? SAMPLE_MS
  const gauge = new PressureGauge(
    {
      maxRssBytes: rssIsLimited ? plan.shedRssBytes : 0,
      maxHeapUsedBytes: plan.shedHeapUsedBytes,
      maxEventLoopDelayMs: app.config.EVENT_LOOP_DELAY_MAX_MS,
    },
    sampleMs,
    () => process.memoryUsage(),
  )
  app.decorate('pressure', gauge)
  // Sampling starts once every plugin has loaded, the first sample one interval later: boot's
  // synchronous work (seconds of wall time at 0.1 CPU) and its garbage are not a reason to
  // refuse the first requests, which after a spin-down include the visitor who woke the service.
  let timer: NodeJS.Timeout | undefined
  app.addHook('onReady', (done) => {
    gauge.start()
    timer = setInterval(() => gauge.sample(), sampleMs).unref()
    done()
  })

  // One error per sample over a limit, not one per refused request: under overload each new
  // Error would capture a stack trace for every request turned away.
  let refusal: { pressure: Pressure; error: DependencyUnavailableError } | undefined
  app.addHook('onRequest', (request, _reply, done) => {
    const { pressure } = gauge
    if (pressure === undefined || request.routeOptions.config.shedding === false) return done()
    if (refusal?.pressure !== pressure) {
      const error = new DependencyUnavailableError(
        pressure.dependency,
        pressure.message,
        RETRY_AFTER_SECONDS,
      )
      refusal = { pressure, error }
    }
    done(refusal.error)
  })
  app.addHook('onClose', async () => clearInterval(timer))
}

export default fp(loadShedding, { name: 'load-shedding', dependencies: ['errors'] })
