import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

const RETRY_AFTER_SECONDS = 10

/**
 * Sheds load with 503 + Retry-After before the kernel kills the process: thresholds come from
 * the memory plan (RSS and heap) plus event-loop delay. Routes opt out with `config.shedding: false`
 * (liveness must keep answering while the process sheds).
 */
async function loadShedding(app: FastifyInstance) {
  const plan = app.memoryPlan
  // An assumed limit (none detected, none configured) guards nothing: no OOM killer waits at
  // 512 MB on a laptop, and the embedded database alone can pass that. The heap limit is real.
  const rssIsLimited = plan.source !== 'default'
  if (!rssIsLimited) app.log.info('no memory limit detected: shedding by heap and event loop only')
  await app.register(underPressure, {
    maxRssBytes: rssIsLimited ? plan.shedRssBytes : 0,
    maxHeapUsedBytes: plan.shedHeapUsedBytes,
    maxEventLoopDelay: app.config.EVENT_LOOP_DELAY_MAX_MS,
    retryAfter: RETRY_AFTER_SECONDS,
    message: 'Server under pressure, retry later',
  })
  // under-pressure lets a route's own pressureHandler decide; returning undefined lets it through.
  app.addHook('onRoute', (route) => {
    if ((route.config as { shedding?: boolean } | undefined)?.shedding === false) {
      route.config = { ...route.config, pressureHandler: () => undefined } as typeof route.config
    }
  })
}

export default fp(loadShedding, { name: 'load-shedding', dependencies: ['probes'] })
