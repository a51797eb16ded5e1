import { readFileSync } from 'node:fs'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import pino from 'pino'
import type { Test } from 'tap'
import { WorkerPool, type WorkerPoolOptions } from '../../src/plugins/workers.js'
import type testTask from '../fixtures/workers/test-task.js'
import { buildTestApp } from './app.js'
import { fileDatabase } from './database.js'

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

export { waitFor } from './wait.js'

/** WorkerPoolOptions.deadline where nothing may time out, whatever the machine's speed. */
export const noDeadline = () => new AbortController().signal

/**
 * WorkerPoolOptions.deadline for a test that decides itself when a task's deadline passes (a
 * timer would race a busy machine's CPU): one deadline per task given to piscina, in order.
 */
export function testDeadlines() {
  const controllers: AbortController[] = []
  return {
    deadline: () => {
      const controller = new AbortController()
      controllers.push(controller)
      return controller.signal
    },
    /** Deadlines handed out so far. */
    get count() {
      return controllers.length
    },
    /** Makes the n-th task's deadline pass (0-based; -1 is the latest). */
    fire(n: number) {
      controllers.at(n)?.abort()
    },
  }
}

/**
 * buildTestApp with the worker budgets of a 1 GB plan (81 MB heap, recycled above 61 MB). Under
 * tap every worker inherits tap's loaders, about 25 MB of heap before any task, which the 512 MB
 * plan's 30 MB recycling budget cannot tell from a leak; production workers start near 6 MB.
 * The task timeout is far away: a worker starting on a busy machine may take many seconds, and
 * the timeout test decides itself when its task times out (WorkerPoolOptions.deadline).
 */
export async function buildWorkerTestApp(
  t: Test,
  env: Record<string, string> = {},
  plugins?: FastifyPluginAsync | FastifyPluginAsync[],
) {
  const { url } = await fileDatabase()
  return buildTestApp(
    t,
    { MEMORY_LIMIT_MB: '1024', WORKER_TASK_TIMEOUT_MS: '600000', DATABASE_URL: url, ...env },
    plugins,
  )
}

/**
 * A worker pool on its own, outside any app, with the test task defined and closed at teardown:
 * for what a test must drive itself (closing mid-task, a deadline it fires).
 */
export function testPool(t: Test, options: Partial<WorkerPoolOptions> = {}) {
  const pool = new WorkerPool(
    {
      threads: 1,
      maxQueue: 4,
      maxTasksPerWorker: 500,
      idleTimeoutMs: 60_000,
      taskTimeoutMs: 600_000,
      heapLimitMb: 81,
      youngGenerationMb: 8,
      // close() waits for in-flight tasks as long as a test needs: the test opens their gates.
      closeTimeoutMs: 600_000,
      ...options,
    },
    pino({ enabled: false }),
  )
  t.teardown(() => pool.close())
  pool.define('test', TEST_TASK)
  return pool
}
