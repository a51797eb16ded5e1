import { readFileSync } from 'node:fs'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import type { Test } from 'tap'
import type testTask from '../fixtures/workers/test-task.js'
import { buildTestApp } from './app.js'

declare module '../../src/workers/tasks.js' {
  interface WorkerTasks {
    test: typeof testTask
  }
}

/** The compiled test-only task module (dist/test/fixtures), as a file: URL. */
export const TEST_TASK = new URL('../fixtures/workers/test-task.js', import.meta.url).href

/** Makes the test-only task runnable as `app.workers.run('test', ...)`. */
export function defineTestTask(app: FastifyInstance) {
  app.workers.define('test', TEST_TASK)
}

/** A gate a test task blocks on until `open()`: deterministic "still running" without sleeps. */
export function gate() {
  const buffer = new SharedArrayBuffer(4)
  const view = new Int32Array(buffer)
  return {
    buffer,
    open() {
      Atomics.store(view, 0, 1)
      Atomics.notify(view, 0)
    },
  }
}

/** OS threads of this process (Linux: /proc/self/status), or undefined elsewhere. */
export function osThreads(): number | undefined {
  try {
    const status = readFileSync('/proc/self/status', 'utf8')
    const match = /^Threads:\s+(\d+)/m.exec(status)
    return match ? Number(match[1]) : undefined
  } catch {
    return undefined
  }
}

/** Polls until `check` holds (tests wait for states, not for fixed times). */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/**
 * buildTestApp with the worker budgets of a 1 GB plan (81 MB heap, recycled above 61 MB). Under
 * tap every worker inherits tap's loaders, about 25 MB of heap before any task, which the 512 MB
 * plan's 30 MB recycling budget cannot tell from a leak; production workers start near 6 MB.
 */
export function buildWorkerTestApp(
  t: Test,
  env: Record<string, string> = {},
  plugins?: FastifyPluginAsync | FastifyPluginAsync[],
) {
  return buildTestApp(t, { MEMORY_LIMIT_MB: '1024', ...env }, plugins)
}
