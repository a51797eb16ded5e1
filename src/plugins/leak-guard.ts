import { getHeapStatistics } from 'node:v8'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export interface LeakReport {
  heapUsedBytes: number
  thresholdBytes: number
  heapLimitBytes: number
  aboveForMs: number
  checks: number
}

export interface LeakGuardOptions {
  /** Called once when the heap stayed above the threshold after full GCs for the whole window. */
  onLeak: (report: LeakReport) => void
}

declare module 'fastify' {
  interface FastifyInstance {
    leakGuard: { aboveSince: number | undefined; fired: boolean }
  }
}

const gc = (globalThis as { gc?: () => void }).gc

/**
 * The origin recycled workers after N requests to contain leaks; here the process watches its
 * own heap. Each tick, if heap used is over the plan's leak threshold, a full GC runs (only then:
 * it costs CPU) and the heap is measured again. Above it for the whole window means a leak:
 * the owner drains and exits so the platform restarts the process before the kernel kills it.
 */
async function leakGuard(app: FastifyInstance, opts: LeakGuardOptions) {
  const threshold = app.memoryPlan.leakHeapUsedBytes
  const windowMs = app.config.LEAK_GUARD_WINDOW_MS
  const state = { aboveSince: undefined as number | undefined, fired: false }
  let checks = 0
  app.decorate('leakGuard', state)

  const tick = () => {
    if (state.fired || getHeapStatistics().used_heap_size <= threshold) {
      state.aboveSince = undefined
      checks = 0
      return
    }
    gc?.()
    const heap = getHeapStatistics()
    if (heap.used_heap_size <= threshold) {
      state.aboveSince = undefined
      checks = 0
      return
    }
    const now = Date.now()
    state.aboveSince ??= now
    checks++
    const aboveForMs = now - state.aboveSince
    if (aboveForMs >= windowMs && checks >= 3) {
      state.fired = true
      opts.onLeak({
        heapUsedBytes: heap.used_heap_size,
        thresholdBytes: threshold,
        heapLimitBytes: heap.heap_size_limit,
        aboveForMs,
        checks,
      })
    }
  }

  const timer = setInterval(tick, Math.max(50, Math.min(10_000, Math.floor(windowMs / 4))))
  timer.unref()
  app.addHook('onClose', async () => clearInterval(timer))
}

export default fp(leakGuard, { name: 'leak-guard' })
