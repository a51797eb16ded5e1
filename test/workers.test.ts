import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { threadId as mainThreadId } from 'node:worker_threads'
import t, { type Test } from 'tap'
import type { App } from '../src/app.js'
import { WORKER_NICE } from '../src/cpu.js'
import { DependencyTimeoutError, DependencyUnavailableError } from '../src/errors.js'
import type { WorkerPoolStatus } from '../src/plugins/workers.js'
import { testDatabase } from './helpers/database.js'
import { assertUnavailable } from './helpers/http.js'
import { ROOT } from './helpers/process.js'
import {
  buildWorkerTestApp,
  defineTestTask,
  gate,
  noDeadline,
  osThreads,
  testDeadlines,
  testPool,
  waitFor,
} from './helpers/workers.js'

function status(app: App): WorkerPoolStatus {
  return app.workers.status()
}

/** A task the pool refused without running it: the overload answer, 503 + Retry-After. */
function assertRefused(t: Test, error: unknown, message: string | RegExp) {
  t.type(error, DependencyUnavailableError)
  t.match(error, { statusCode: 503, dependency: 'workers', retryAfterSeconds: 2, message })
}

t.test('a task runs on a worker thread started on demand', async (t) => {
  const app = await buildWorkerTestApp(t)
  defineTestTask(app)
  t.equal(status(app).threadsAlive, 0, 'no thread before the first task')
  const { threadId } = await app.workers.run('test', { kind: 'thread' })
  t.not(threadId, mainThreadId, 'ran off the main thread')
  t.equal(status(app).threadsAlive, 1, 'one thread started on demand')
  t.equal(status(app).completed, 1)
})

t.test('/status has a workers section', async (t) => {
  const app = await buildWorkerTestApp(t)
  defineTestTask(app)
  await app.workers.run('test', { kind: 'thread' })
  const body = (await app.inject('/status')).json()
  t.match(body.workers, {
    maxThreads: 2,
    threadsAlive: 1,
    busy: 0,
    queued: 0,
    maxQueue: 32,
    completed: 1,
    failed: { timeout: 0, crashed: 0, outOfMemory: 0, taskError: 0 },
    rejected: 0,
    recycled: { maxTasks: 0, heap: 0 },
    heapLimitMb: app.memoryPlan.workerHeapMb,
  })
})

t.test('the event loop keeps answering while a task holds a CPU', async (t) => {
  const app = await buildWorkerTestApp(t)
  defineTestTask(app)
  const spin = gate()
  const task = app.workers.run('test', { kind: 'spin', gate: spin.buffer })
  await waitFor(() => status(app).busy === 1, 'the spinning task to start')
  // The task cannot finish before the gate opens, so every answer here came while it ran.
  const answers = []
  for (let i = 0; i < 20; i++) answers.push((await app.inject('/healthz')).statusCode)
  t.equal(status(app).busy, 1, 'still spinning')
  t.same(answers, Array(20).fill(200), '20 health checks answered during the task')
  spin.open()
  t.type((await task).threadId, 'number')
})

t.test('a full queue answers 503 with Retry-After naming the worker pool', async (t) => {
  const app = await buildWorkerTestApp(
    t,
    { WORKER_THREADS: '1', WORKER_MAX_QUEUE: '1' },
    async (app) => {
      defineTestTask(app)
      app.get('/t/held', async () => app.workers.run('test', { kind: 'gate', gate: held.buffer }))
    },
  )
  const held = gate()
  const running = app.inject('/t/held')
  const queued = app.inject('/t/held')
  await waitFor(() => status(app).busy === 1 && status(app).queued === 1, 'one running, one queued')
  assertUnavailable(t, await app.inject('/t/held'), {
    dependency: 'workers',
    retryAfter: '2',
    message: /queue is full/,
  })
  t.equal(status(app).rejected, 1)
  held.open()
  t.equal((await running).statusCode, 200, 'the running task still completes')
  t.equal((await queued).statusCode, 200, 'the queued task still completes')
})

t.test(
  'a task that would wait past its budget is refused with 503, not queued to time out',
  async (t) => {
    const budgetMs = 2000
    const pool = testPool(t, { maxQueue: 32, taskTimeoutMs: budgetMs, deadline: noDeadline })
    t.equal(pool.status().taskMs, undefined, 'no estimate before a task has finished')
    // A task that takes ~300 ms on its worker: its gate stays shut until maxMs.
    await pool.run('test', { kind: 'gate', gate: gate().buffer, maxMs: 300 })
    const taskMs = pool.status().taskMs as number
    t.ok(taskMs >= 300, `the estimate is what tasks took (${taskMs} ms)`)

    const hold = gate()
    const running = pool.run('test', { kind: 'gate', gate: hold.buffer })
    await waitFor(() => pool.status().busy === 1, 'a task holding the only thread')
    // Nothing finishes while the thread is held, so the estimate stands still: queue tasks until
    // one is refused.
    const admitted: Promise<unknown>[] = []
    let refused: unknown
    while (refused === undefined && admitted.length < 32) {
      // Admission is decided before run() first waits: the refusal is counted at once.
      const before = pool.status().rejected
      const task = pool.run('test', { kind: 'thread' })
      if (pool.status().rejected > before) refused = await task.catch((error: unknown) => error)
      else admitted.push(task)
    }
    assertRefused(
      t,
      refused,
      new RegExp(`worker queue would take ~\\d+ ms, over a task's budget of ${budgetMs} ms`),
    )
    const n = admitted.length
    t.ok(n >= 1 && n < 32, `refused with queue slots free (${n} queued)`)
    // The last one queued: n - 1 ahead, then the running task and itself; the refused one: n ahead.
    // (taskMs is rounded in status: a tolerance of 1 ms per task.)
    t.ok((n + 1) * taskMs <= budgetMs + n + 1, 'the last task admitted fits in its budget')
    t.ok((n + 2) * taskMs > budgetMs - (n + 2), 'the refused one would not have')
    t.equal(pool.status().rejected, 1)

    hold.open()
    await running
    await Promise.all(admitted)
    t.equal(pool.status().failed.timeout, 0, 'every admitted task ran')
  },
)

t.test('with WORKER_MAX_QUEUE=0 a task beyond the threads is refused at once', async (t) => {
  const app = await buildWorkerTestApp(t, { WORKER_THREADS: '1', WORKER_MAX_QUEUE: '0' })
  defineTestTask(app)
  const held = gate()
  const running = app.workers.run('test', { kind: 'gate', gate: held.buffer })
  await t.rejects(app.workers.run('test', { kind: 'thread' }), {
    statusCode: 503,
    message: /queue is full/,
  })
  held.open()
  await running
  t.type((await app.workers.run('test', { kind: 'thread' })).threadId, 'number', 'room again')
})

t.test('a payload loader runs only once the task has its place in the pool', async (t) => {
  const app = await buildWorkerTestApp(t, { WORKER_THREADS: '1', WORKER_MAX_QUEUE: '0' })
  defineTestTask(app)
  const held = gate()
  let loads = 0
  const running = app.workers.run('test', async () => {
    loads++
    return { kind: 'gate' as const, gate: held.buffer }
  })
  await waitFor(() => status(app).busy === 1, 'the loaded task to run')
  await t.rejects(
    app.workers.run('test', async () => {
      loads++
      return { kind: 'thread' as const }
    }),
    { statusCode: 503, message: /queue is full/ },
  )
  t.equal(loads, 1, 'a full pool refuses before the load')
  held.open()
  await running
  const missing = new Error('not found')
  await t.rejects(
    app.workers.run('test', async () => {
      throw missing
    }),
    missing,
    "the loader's error reaches the caller unchanged",
  )
  t.equal(status(app).failed.taskError, 0, 'and is not counted as a task failure')
  t.equal(status(app).queued, 0, 'its place is given back')
  t.type((await app.workers.run('test', { kind: 'thread' })).threadId, 'number', 'room again')
})

t.test(
  'worker threads run at the lowest priority',
  { skip: process.platform === 'linux' ? false : 'the nice value is per thread only on Linux' },
  async (t) => {
    const app = await buildWorkerTestApp(t)
    defineTestTask(app)
    const { priority } = await app.workers.run('test', { kind: 'thread' })
    t.equal(priority, WORKER_NICE, 'the worker thread is niced')
  },
)

t.test('a task past its deadline answers 504 and its worker is replaced', async (t) => {
  const deadlines = testDeadlines()
  const pool = testPool(t, { taskTimeoutMs: 3000, deadline: deadlines.deadline })
  const first = await pool.run('test', { kind: 'thread' })
  const stuck = gate() // never opened
  const running = pool.run('test', { kind: 'gate', gate: stuck.buffer })
  await waitFor(() => pool.status().busy === 1, 'the stuck task to run')
  deadlines.fire(-1)
  const error = await running.catch((e: unknown) => e)
  t.type(error, DependencyTimeoutError)
  t.match(error, {
    statusCode: 504,
    dependency: 'workers',
    message: 'worker task test did not finish within 3000ms',
  })
  const next = await pool.run('test', { kind: 'thread' })
  t.not(next.threadId, first.threadId, 'the stuck worker was terminated and replaced')
  t.equal(pool.status().failed.timeout, 1)

  // What a request whose task timed out gets.
  const app = await buildWorkerTestApp(t, {}, async (app) => {
    app.get('/t/timed-out', async () => {
      throw error
    })
  })
  const res = await app.inject('/t/timed-out')
  t.equal(res.statusCode, 504)
  t.match(res.json(), {
    statusCode: 504,
    error: 'Gateway Timeout',
    dependency: 'workers',
    message: 'worker task test did not finish within 3000ms',
  })
  t.notOk(res.headers['retry-after'])
})

t.test(
  'a task still waiting for a thread at its deadline answers 503 and never runs',
  async (t) => {
    const deadlines = testDeadlines()
    const pool = testPool(t, { deadline: deadlines.deadline })
    const hold = gate()
    const running = pool.run('test', { kind: 'gate', gate: hold.buffer })
    await waitFor(() => pool.status().busy === 1, 'a task holding the only thread')
    // Run, it would fail with this message.
    const waiting = pool.run('test', { kind: 'throw', message: 'the queued task ran' })
    await waitFor(() => deadlines.count === 2, 'the second task queued')
    deadlines.fire(1)
    assertRefused(
      t,
      await waiting.catch((e: unknown) => e),
      'worker task test was still waiting for a thread after its budget of 600000 ms; it was not run',
    )
    t.equal(pool.status().failed.timeout, 0, 'not a timeout of a running task')
    t.equal(pool.status().rejected, 1)

    hold.open()
    const first = await running
    const next = await pool.run('test', { kind: 'thread' })
    t.equal(next.threadId, first.threadId, 'the worker that was running carried on')
    t.equal(pool.status().failed.taskError, 0, 'the refused task never ran')
  },
)

t.test(
  'a task that reaches its thread too late to finish is not run: 503, worker kept',
  async (t) => {
    let behindMs = 0
    const pool = testPool(t, {
      // Two tasks per worker: the late one, not run, must not use up the second.
      maxTasksPerWorker: 2,
      taskTimeoutMs: 60_000,
      deadline: noDeadline,
      // The pool's clock, moved back: a task admitted "now" started its budget long ago.
      now: () => Date.now() - behindMs,
    })
    const first = await pool.run('test', { kind: 'thread' })
    const taskMs = pool.status().taskMs
    behindMs = 120_000
    assertRefused(
      t,
      await pool
        .run('test', { kind: 'throw', message: 'the late task ran' })
        .catch((e: unknown) => e),
      /^worker task test waited too long for a thread to finish within its budget of 60000 ms \(tasks take ~\d+ ms\); it was not run$/,
    )
    t.equal(pool.status().failed.taskError, 0, 'the task was not run')
    t.equal(pool.status().completed, 1, 'nor counted as completed')
    t.equal(pool.status().taskMs, taskMs, 'and the estimate is left as it was')
    t.equal(pool.status().rejected, 1)
    t.equal(pool.status().recycled.maxTasks, 0, 'nor counted toward recycling its worker')

    behindMs = 0
    const next = await pool.run('test', { kind: 'thread' })
    t.equal(next.threadId, first.threadId, 'the same worker runs the next task')
  },
)

t.test('a worker that dies mid-task fails only its task; queued tasks still run', async (t) => {
  const app = await buildWorkerTestApp(t, { WORKER_THREADS: '1' })
  defineTestTask(app)
  const crash = gate()
  const dying = app.workers.run('test', { kind: 'crash', gate: crash.buffer })
  const queued = [1, 2, 3].map(() => app.workers.run('test', { kind: 'thread' }))
  await waitFor(() => status(app).busy === 1 && status(app).queued === 3, 'crash task running')
  crash.open()
  await t.rejects(dying, {
    statusCode: 503,
    dependency: 'workers',
    message: 'the worker running task test stopped; it was replaced',
  })
  const replacement = (await Promise.all(queued)).map((r) => r.threadId)
  t.equal(new Set(replacement).size, 1, 'the queued tasks ran on the replacement worker')
  t.equal(status(app).failed.crashed, 1)
})

t.test(
  'workers dying with tasks queued: every answer is 503, never a 500 from piscina',
  async (t) => {
    // Every removed worker with tasks queued needs a wake task; uncounted, they used to pile up in
    // piscina's queue until it refused admitted tasks with "Task queue is at limit" (a 500).
    const env = { WORKER_THREADS: '1', WORKER_MAX_QUEUE: '2' }
    const app = await buildWorkerTestApp(t, env, async (a) => {
      defineTestTask(a)
      a.get('/t/crash', async () => a.workers.run('test', { kind: 'crash', gate: crash.buffer }))
    })
    const crash = gate()
    crash.open() // every crash task ends its worker as soon as it starts
    const statuses: Record<number, number> = {}
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(Array.from({ length: 4 }, () => app.inject('/t/crash')))
      for (const answer of answers) {
        statuses[answer.statusCode] = (statuses[answer.statusCode] ?? 0) + 1
        if (answer.statusCode !== 503) t.fail(`answered ${answer.statusCode}: ${answer.body}`)
        else t.equal(answer.json().dependency, 'workers')
      }
    }
    t.same(Object.keys(statuses), ['503'], `every answer is a 503 (${JSON.stringify(statuses)})`)
    t.ok(status(app).failed.crashed >= 3, 'the workers did crash')
    t.type((await app.workers.run('test', { kind: 'thread' })).threadId, 'number', 'serves again')
  },
)

t.test('a task that exhausts its heap fails cleanly; the next one succeeds', async (t) => {
  const app = await buildWorkerTestApp(t, {}, async (app) => {
    defineTestTask(app)
    app.get('/t/exhaust', async () => app.workers.run('test', { kind: 'exhaust' }))
  })
  const res = await app.inject('/t/exhaust')
  t.equal(res.statusCode, 503)
  t.match(res.json(), {
    dependency: 'workers',
    message: `worker task test ran out of memory (worker heap limit ${app.memoryPlan.workerHeapMb}MB); the worker was replaced`,
  })
  t.type((await app.workers.run('test', { kind: 'thread' })).threadId, 'number', 'next one runs')
  t.equal(status(app).failed.outOfMemory, 1)
  t.equal((await app.inject('/healthz')).statusCode, 200, 'the process lives on')
})

t.test('a task that throws is reported as a failure of that task', async (t) => {
  const app = await buildWorkerTestApp(t, { WORKER_THREADS: '1' })
  defineTestTask(app)
  const before = await app.workers.run('test', { kind: 'thread' })
  await t.rejects(app.workers.run('test', { kind: 'throw', message: 'bad input' }), {
    message: 'bad input',
  })
  const after = await app.workers.run('test', { kind: 'thread' })
  t.equal(after.threadId, before.threadId, 'a thrown error does not cost the worker')
  t.equal(status(app).failed.taskError, 1)
  await t.rejects(
    // @ts-expect-error: an unknown task name is a type error, and a clear error at run time.
    app.workers.run('nope', {}),
    { message: 'no worker task named "nope"' },
  )
})

t.test('a worker is recycled after WORKER_MAX_TASKS tasks with no failed task', async (t) => {
  const app = await buildWorkerTestApp(t, { WORKER_THREADS: '1', WORKER_MAX_TASKS: '3' })
  defineTestTask(app)
  const sequential: number[] = []
  for (let i = 0; i < 7; i++)
    sequential.push((await app.workers.run('test', { kind: 'thread' })).threadId)
  const [a, b, c] = [sequential[0], sequential[3], sequential[6]]
  t.same(sequential, [a, a, a, b, b, b, c], 'three tasks per thread')
  t.equal(new Set([a, b, c]).size, 3, 'each recycle brings a new thread')

  // Queued behind a retiring worker, tasks still run, each thread still takes at most three.
  const burst = await Promise.all(
    Array.from({ length: 10 }, () => app.workers.run('test', { kind: 'thread' })),
  )
  const perThread = new Map<number, number>()
  for (const { threadId } of burst) perThread.set(threadId, (perThread.get(threadId) ?? 0) + 1)
  t.ok(
    [...perThread.values()].every((n) => n <= 3),
    'no thread ran more than WORKER_MAX_TASKS',
  )
  t.equal(status(app).failed.crashed + status(app).failed.timeout, 0)
  t.ok(status(app).recycled.maxTasks >= 4)
})

t.test('a worker whose heap passes its budget is recycled', async (t) => {
  const app = await buildWorkerTestApp(t, { WORKER_THREADS: '1' })
  defineTestTask(app)
  const first = await app.workers.run('test', { kind: 'thread' })
  // Leak 4 MB per task on the same worker until its heap passes the budget (below its limit).
  let latest = first
  for (let i = 0; i < 40 && status(app).recycled.heap === 0; i++) {
    latest = await app.workers.run('test', { kind: 'retain', mb: 4 })
  }
  t.equal(latest.threadId, first.threadId, 'the leaking tasks ran on one worker')
  t.equal(status(app).recycled.heap, 1, 'that worker was recycled')
  const next = await app.workers.run('test', { kind: 'thread' })
  t.not(next.threadId, first.threadId, 'the next task runs on a fresh worker')
  t.equal(status(app).recycled.heap, 1)
  t.same(status(app).failed, { timeout: 0, crashed: 0, outOfMemory: 0, taskError: 0 })
})

const countableThreads =
  osThreads() === undefined ? 'no /proc/self/status here: cannot count OS threads' : false

t.test(
  'idle: after WORKER_IDLE_TIMEOUT_MS no worker thread remains',
  { skip: countableThreads },
  async (t) => {
    const app = await buildWorkerTestApp(t, { WORKER_IDLE_TIMEOUT_MS: '200' })
    // Start libuv's thread pool (it starts lazily and never stops), so it is in the baseline.
    await readFile(new URL(import.meta.url))
    const baseline = osThreads() as number
    defineTestTask(app)
    const held = gate()
    const both = [1, 2].map(() => app.workers.run('test', { kind: 'gate', gate: held.buffer }))
    await waitFor(() => status(app).busy === 2, 'two busy workers')
    t.ok((osThreads() as number) >= baseline + 2, 'two more OS threads while busy')
    held.open()
    await Promise.all(both)
    await waitFor(() => status(app).threadsAlive === 0, 'workers to exit when idle')
    await waitFor(() => (osThreads() as number) <= baseline, 'OS threads back to the baseline')
    t.equal(osThreads(), baseline, 'no worker thread remains')
    // And the pool starts again on demand.
    t.type((await app.workers.run('test', { kind: 'thread' })).threadId, 'number')
  },
)

t.test('close lets an in-flight task finish, then refuses new tasks', async (t) => {
  const pool = testPool(t)
  const held = gate()
  const inFlight = pool.run('test', { kind: 'gate', gate: held.buffer })
  await waitFor(() => pool.status().busy === 1, 'task running')
  let closed = false
  const closing = pool.close().then(() => {
    closed = true
  })
  await t.rejects(pool.run('test', { kind: 'thread' }), {
    statusCode: 503,
    message: 'worker pool is closing',
  })
  t.notOk(closed, 'close waits for the in-flight task')
  held.open()
  t.type((await inFlight).threadId, 'number', 'the in-flight task completed')
  await closing
  t.equal(pool.status().threadsAlive, 0)
})

t.test('close without any task started is immediate', async (t) => {
  const app = await buildWorkerTestApp(t)
  await app.close()
  t.equal(status(app).threadsAlive, 0)
})

t.test('dev mode: the pool runs the tasks from TypeScript under tsx', async (t) => {
  // Everything else in this file runs the compiled tasks in dist (the production path).
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'test', 'fixtures', 'workers', 'dev-task.mjs')],
    { cwd: ROOT, env: { PATH: process.env.PATH, DATABASE_URL: (await testDatabase(t)).url } },
  )
  const { result, status } = JSON.parse(stdout) as {
    result: { threadId: number }
    status: WorkerPoolStatus
  }
  t.not(result.threadId, 0, 'ran on a worker thread')
  t.equal(status.completed, 1)
})
