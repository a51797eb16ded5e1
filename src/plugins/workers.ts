import { readdirSync } from 'node:fs'
import { setPriority } from 'node:os'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Piscina } from 'piscina'
import { readCpuQuota, WORKER_NICE, workerThreadsFor } from '../cpu.js'
import { pinToOneCore } from '../cpu-pin.js'
import { DependencyTimeoutError, DependencyUnavailableError } from '../errors.js'
import type { TaskMessage, TaskReply } from '../workers/entry.js'
import { ENTRY_MODULE, type WorkerTasks } from '../workers/tasks.js'

type TaskName = keyof WorkerTasks & string
type Payload<K extends TaskName> = WorkerTasks[K] extends (payload: infer P) => unknown ? P : never
type Result<K extends TaskName> = WorkerTasks[K] extends (...args: never[]) => infer R
  ? Awaited<R>
  : never
type PiscinaOptions = NonNullable<ConstructorParameters<typeof Piscina>[0]>
type Balancer = NonNullable<PiscinaOptions['loadBalancer']>
type PiscinaWorker = Parameters<Balancer>[1][number]

/** A worker whose heap is above this share of its limit after a task is retired. */
export const HEAP_RECYCLE_SHARE = 0.75
/** How much each finished task moves the estimate of how long a task takes. */
const TASK_MS_WEIGHT = 0.25
const RETRY_AFTER_SECONDS = 2
const DEPENDENCY = 'workers'
/** The name of the task that only makes piscina start a worker (#wake); it never runs. */
const WAKE = 'wake'

export interface WorkerPoolOptions {
  threads: number
  maxQueue: number
  maxTasksPerWorker: number
  idleTimeoutMs: number
  taskTimeoutMs: number
  /** Hard V8 old-space limit of each worker (resourceLimits); recycling starts below it. */
  heapLimitMb: number
  /** Young generation of each worker: V8's default (tens of MB per thread) would dwarf the rest. */
  youngGenerationMb: number
  /** How long close() lets in-flight tasks finish before terminating the workers. */
  closeTimeoutMs: number
  /** The signal that ends a task after taskTimeoutMs (default AbortSignal.timeout; tests
   * pass their own to decide when a task times out). */
  deadline?: (timeoutMs: number) => AbortSignal
  /** The clock a task's latest start is set by (default Date.now, which workers read; tests
   * move it back to make a task late). */
  now?: () => number
}

export interface WorkerPoolStatus {
  /** WORKER_THREADS: the most threads that may be alive at once. */
  maxThreads: number
  threadsAlive: number
  busy: number
  /** Tasks accepted but not started yet (bounded by WORKER_MAX_QUEUE). */
  queued: number
  maxQueue: number
  completed: number
  failed: { timeout: number; crashed: number; outOfMemory: number; taskError: number }
  /**
   * Tasks refused with 503: the queue was full, a task admitted then would have waited past its
   * budget (taskMs), the pool was closing, or a queued task's budget ran out before it could
   * start (too late to finish: not run; or still waiting at its deadline).
   */
  rejected: number
  /** How long a task takes on a worker lately (ms, smoothed); absent before the first one. */
  taskMs?: number
  recycled: { maxTasks: number; heap: number }
  heapLimitMb: number
  heapRecycleMb: number
}

export interface Workers {
  /**
   * Runs a task on the pool. Errors: 503 (queue full, worker died, its budget ran out before
   * it started), 504 (it ran past its budget).
   * `payload` may be a function that loads it: it runs only once the task has its place in the
   * pool (held while it loads), so a full pool refuses before any load is made; what it throws
   * reaches the caller unchanged.
   */
  run<K extends TaskName>(
    name: K,
    payload: Payload<K> | (() => Promise<Payload<K>>),
  ): Promise<Result<K>>
  /** Makes another task module runnable by name (a file: URL; tests use fixtures this way). */
  define(name: string, module: string): void
  status(): WorkerPoolStatus
}

declare module 'fastify' {
  interface FastifyInstance {
    workers: Workers
  }
}

/** This process's threads (Linux), else undefined. */
function threadIds(): Set<string> | undefined {
  try {
    return new Set(readdirSync('/proc/self/task'))
  } catch {
    return undefined
  }
}

function lowerPriority(thread: number) {
  try {
    setPriority(thread, WORKER_NICE)
  } catch {
    // Gone already, or not allowed: entry.ts lowers it from inside.
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as { code?: string } | null)?.code
}

/**
 * piscina with the policies the design asks for: threads start on demand and exit when idle,
 * a bounded queue in front (full: 503), a budget per task, waiting included (a task that could
 * not start in time is never run: 503; one that runs past it: 504, and the worker running it is
 * terminated), recycling after N tasks or when a worker's heap passes its budget, and a dead
 * worker replaced with only its own task failing. piscina is imported on first use, so a process
 * that never runs a task never loads it.
 */
export class WorkerPool implements Workers {
  readonly #options: WorkerPoolOptions
  readonly #log: FastifyBaseLogger
  readonly #modules = new Map<string, string>()
  #pool: Promise<Piscina> | undefined
  #piscina: Piscina | undefined
  #closing = false
  /** threadId -> piscina's live view of the worker (usage, terminating). */
  readonly #live = new Map<number, PiscinaWorker>()
  /** threadId -> tasks handed to it (the balancer counts, so a worker never gets more than N). */
  readonly #assigned = new Map<number, number>()
  readonly #overBudget = new Set<number>()
  /** run() tasks holding a thread or a queue slot. */
  #inFlight = 0
  /** How long tasks take on a worker, smoothed over the last few (undefined before the first). */
  #taskMs: number | undefined
  readonly #counts = {
    completed: 0,
    rejected: 0,
    failed: { timeout: 0, crashed: 0, outOfMemory: 0, taskError: 0 },
    recycled: { maxTasks: 0, heap: 0 },
  }

  constructor(options: WorkerPoolOptions, log: FastifyBaseLogger) {
    this.#options = options
    this.#log = log
  }

  define(name: string, module: string) {
    this.#modules.set(name, module)
  }

  async run<K extends TaskName>(
    name: K,
    payload: Payload<K> | (() => Promise<Payload<K>>),
  ): Promise<Result<K>> {
    const module = this.#modules.get(name)
    if (module === undefined) throw new Error(`no worker task named ${JSON.stringify(name)}`)
    const { threads, maxQueue, taskTimeoutMs } = this.#options
    if (this.#closing) throw this.#refuse('worker pool is closing')
    if (this.#inFlight >= threads + maxQueue) throw this.#refuse(this.#fullMessage())
    // A queue slot is no use to a task that would wait past its budget: 503 now, not 504 later.
    // This is what protects the budget when the workers get little CPU (they run at the lowest
    // priority, so a busy event loop leaves them less): tasks then take longer, and fewer wait.
    const expectedMs = this.#expectedMs()
    if (expectedMs > taskTimeoutMs) {
      throw this.#refuse(
        `worker queue would take ~${Math.round(expectedMs)} ms, over a task's budget of ${taskTimeoutMs} ms`,
      )
    }
    this.#inFlight++
    try {
      // A payload is structured-clonable, so a function can only be its loader.
      const input =
        typeof payload === 'function' ? await (payload as () => Promise<Payload<K>>)() : payload
      return (await this.#runAdmitted(name, module, input, taskTimeoutMs)) as Result<K>
    } finally {
      this.#inFlight--
      this.#retireIdle()
    }
  }

  async #runAdmitted(name: string, module: string, payload: unknown, taskTimeoutMs: number) {
    const started = new Int32Array(new SharedArrayBuffer(4))
    let reply: TaskReply
    try {
      const pool = await this.#start()
      // The budget covers waiting in the queue and running. A task that reaches its thread with
      // less of it left than tasks take is not started (the worker answers `late`): run, it
      // would most likely be cut off at its deadline, and its worker with it.
      const { deadline = AbortSignal.timeout, now = Date.now } = this.#options
      const signal = deadline(taskTimeoutMs)
      const startBy = now() + taskTimeoutMs - (this.#taskMs ?? 0)
      const message: TaskMessage = { module, payload, started, startBy }
      reply = (await this.#lowering(() => pool.run(message, { signal }))) as TaskReply
    } catch (error) {
      throw this.#failure(name, error, Atomics.load(started, 0) === 1)
    }
    if (reply.late) {
      // It ran nothing on its worker, so it does not bring that worker closer to recycling.
      const assigned = this.#assigned.get(reply.threadId)
      if (assigned !== undefined) this.#assigned.set(reply.threadId, assigned - 1)
      throw this.#refuse(
        `worker task ${name} waited too long for a thread to finish within its budget of ${taskTimeoutMs} ms (tasks take ~${Math.round(this.#taskMs ?? 0)} ms); it was not run`,
      )
    }
    this.#counts.completed++
    this.#taskMs =
      this.#taskMs === undefined
        ? reply.runMs
        : this.#taskMs + (reply.runMs - this.#taskMs) * TASK_MS_WEIGHT
    if (reply.heapUsedBytes > this.#heapRecycleBytes()) this.#overBudget.add(reply.threadId)
    return reply.result
  }

  /**
   * How long a task admitted now would take, waiting included: the tasks ahead of it shared over
   * the threads, then one more for the task running on its thread and one for itself, each as
   * long as tasks take lately. 0 while a thread is free or before any task has finished.
   */
  #expectedMs(): number {
    const ahead = this.#inFlight - this.#options.threads
    if (ahead < 0 || this.#taskMs === undefined) return 0
    return (ahead / this.#options.threads + 2) * this.#taskMs
  }

  /**
   * A task refused before it ran (at admission, or later in the queue): 503 + Retry-After,
   * counted in `rejected`.
   */
  #refuse(message: string) {
    this.#counts.rejected++
    return new DependencyUnavailableError(DEPENDENCY, message, RETRY_AFTER_SECONDS)
  }

  #fullMessage() {
    const { threads, maxQueue } = this.#options
    return `worker queue is full (${maxQueue} waiting, ${threads} running)`
  }

  status(): WorkerPoolStatus {
    const workers = [...this.#live.values()]
    const busy = workers.filter((w) => w.currentUsage > 0).length
    return {
      maxThreads: this.#options.threads,
      threadsAlive: this.#piscina?.threads.length ?? 0,
      busy,
      queued: Math.max(0, this.#inFlight - busy),
      maxQueue: this.#options.maxQueue,
      completed: this.#counts.completed,
      failed: { ...this.#counts.failed },
      rejected: this.#counts.rejected,
      ...(this.#taskMs === undefined ? {} : { taskMs: Math.round(this.#taskMs) }),
      recycled: { ...this.#counts.recycled },
      heapLimitMb: this.#options.heapLimitMb,
      heapRecycleMb: Math.round(this.#heapRecycleBytes() / 1048576),
    }
  }

  /** Lets in-flight and queued tasks finish (up to closeTimeoutMs), then stops every worker. */
  async close() {
    this.#closing = true
    if (this.#pool === undefined) return
    const pool = await this.#pool
    await pool.close()
  }

  #heapRecycleBytes() {
    return this.#options.heapLimitMb * HEAP_RECYCLE_SHARE * 1048576
  }

  #retiring(threadId: number) {
    return (
      (this.#assigned.get(threadId) ?? 0) >= this.#options.maxTasksPerWorker ||
      this.#overBudget.has(threadId)
    )
  }

  /** Terminates retired workers once they are idle; the next task starts a fresh one. */
  #retireIdle() {
    for (const [threadId, worker] of this.#live) {
      if (!this.#retiring(threadId) || worker.currentUsage > 0 || worker.terminating) continue
      const thread = this.#piscina?.threads.find((t) => t.threadId === threadId)
      if (thread === undefined) continue
      const reason = this.#overBudget.has(threadId) ? 'heap' : 'maxTasks'
      this.#counts.recycled[reason]++
      this.#live.delete(threadId)
      this.#log.info({ threadId, reason }, 'recycling worker thread')
      void thread.terminate()
    }
  }

  /** Maps what piscina and the worker report to the error the request gets. */
  #failure(name: string, error: unknown, started: boolean): Error {
    const failed = this.#counts.failed
    if ((error as Error | null)?.name === 'AbortError') {
      // Never started: the pool was too busy for it (or shut down first), a 503, not a 504.
      if (!started) {
        return this.#refuse(
          this.#closing
            ? `worker pool closed before task ${name} started; it was not run`
            : `worker task ${name} was still waiting for a thread after its budget of ${this.#options.taskTimeoutMs} ms; it was not run`,
        )
      }
      failed.timeout++
      return new DependencyTimeoutError(
        DEPENDENCY,
        `worker task ${name} did not finish within ${this.#options.taskTimeoutMs}ms`,
        { cause: error },
      )
    }
    if (errorCode(error) === 'ERR_WORKER_OUT_OF_MEMORY') {
      failed.outOfMemory++
      return new DependencyUnavailableError(
        DEPENDENCY,
        `worker task ${name} ran out of memory (worker heap limit ${this.#options.heapLimitMb}MB); the worker was replaced`,
        RETRY_AFTER_SECONDS,
        { cause: error },
      )
    }
    if (/^Task queue is at limit|^No task queue available/.test((error as Error)?.message)) {
      // Cannot happen while run() counts every task; if piscina refuses anyway it is a full
      // pool, not a failure of the request.
      return this.#refuse(this.#fullMessage())
    }
    if (/^worker exited with code|^Terminating worker thread/.test((error as Error)?.message)) {
      failed.crashed++
      return new DependencyUnavailableError(
        DEPENDENCY,
        `the worker running task ${name} stopped; it was replaced`,
        RETRY_AFTER_SECONDS,
        { cause: error },
      )
    }
    // The task itself threw: a bug or bad input, reported as is (500 unless it says otherwise).
    failed.taskError++
    return error instanceof Error ? error : new Error(String(error))
  }

  #start(): Promise<Piscina> {
    this.#pool ??= import('piscina').then(({ Piscina }) => {
      const { threads, maxQueue, idleTimeoutMs, heapLimitMb, youngGenerationMb, closeTimeoutMs } =
        this.#options
      const pool = new Piscina({
        filename: ENTRY_MODULE,
        minThreads: 0,
        maxThreads: threads,
        idleTimeout: idleTimeoutMs,
        // Every task piscina holds was counted first: each run() admitted (#inFlight), plus the
        // one place the wake task takes for an instant (#wake). piscina never refuses one.
        maxQueue: threads + maxQueue + 1,
        concurrentTasksPerWorker: 1,
        resourceLimits: {
          maxOldGenerationSizeMb: heapLimitMb,
          maxYoungGenerationSizeMb: youngGenerationMb,
        },
        closeTimeout: closeTimeoutMs,
        loadBalancer: (task, workers) => this.#pick(task.name, workers),
      })
      pool.on('workerCreate', (worker: PiscinaWorker) => this.#live.set(worker.id, worker))
      pool.on('workerDestroy', (worker: PiscinaWorker) => this.#forget(worker.id))
      // A worker that dies with no task running: piscina reports it here; without a listener
      // the 'error' event would crash the process.
      pool.on('error', (error: unknown) => this.#log.error({ err: error }, 'worker pool error'))
      this.#piscina = pool
      return pool
    })
    return this.#pool
  }

  /** The load balancer: the first idle worker that is not being retired. */
  #pick(taskName: string, workers: PiscinaWorker[]): PiscinaWorker | null {
    if (taskName === WAKE) return null
    for (const worker of workers) {
      if (worker.currentUsage > 0 || worker.terminating || worker.destroyed) continue
      if (this.#retiring(worker.id)) continue
      this.#assigned.set(worker.id, (this.#assigned.get(worker.id) ?? 0) + 1)
      return worker
    }
    return null
  }

  /**
   * Runs `start` (a pool.run, where piscina starts a worker when it needs one) and gives the
   * thread it started the workers' priority at once: the worker lowers its own in entry.ts, but
   * only after Node has started it, tens of ms of CPU that would otherwise compete with the
   * event loop (seconds at 0.1 CPU). Linux only (threads are in /proc/self/task); elsewhere, or
   * while every thread is up, it only runs `start`.
   */
  #lowering<T>(start: () => T): T {
    if ((this.#piscina?.threads.length ?? 0) >= this.#options.threads) return start()
    const before = threadIds()
    const result = start()
    if (before !== undefined) {
      for (const id of threadIds() ?? []) if (!before.has(id)) lowerPriority(Number(id))
    }
    return result
  }

  #forget(threadId: number) {
    this.#live.delete(threadId)
    this.#assigned.delete(threadId)
    this.#overBudget.delete(threadId)
    // piscina does not hand queued tasks to a new worker when one is removed (timeout, crash,
    // recycling) until the next run(); a no-op run makes it start one. After the removal is done.
    setImmediate(() => this.#wake())
  }

  /**
   * piscina starts a worker for queued tasks only inside run(), so after a worker is removed
   * (timeout, crash, recycling) with tasks waiting, a wake task is run and withdrawn at once:
   * the balancer never hands it to a worker, so it holds the one queue place kept for it for the
   * length of this call, never a request's slot, and wakes never pile up in piscina's queue.
   */
  #wake() {
    const pool = this.#piscina
    if (this.#closing || pool === undefined || pool.queueSize === 0) return
    const withdraw = new AbortController()
    this.#lowering(() => pool.run(null, { name: WAKE, signal: withdraw.signal })).catch(() => {})
    withdraw.abort()
  }
}

async function workers(app: FastifyInstance) {
  const { config, memoryPlan } = app
  const cpu = readCpuQuota()
  const pool = new WorkerPool(
    {
      threads: config.WORKER_THREADS ?? workerThreadsFor(cpu.cpus),
      maxQueue: config.WORKER_MAX_QUEUE,
      maxTasksPerWorker: config.WORKER_MAX_TASKS,
      idleTimeoutMs: config.WORKER_IDLE_TIMEOUT_MS,
      taskTimeoutMs: config.WORKER_TASK_TIMEOUT_MS,
      heapLimitMb: memoryPlan.workerHeapMb,
      youngGenerationMb: memoryPlan.semiSpaceMb,
      // Tasks stop at their own timeout; the pool never holds shutdown past its budget.
      closeTimeoutMs: Math.min(config.WORKER_TASK_TIMEOUT_MS + 1000, config.SHUTDOWN_TIMEOUT_MS),
    },
    app.log.child({ plugin: 'workers' }),
  )
  app.decorate('workers', pool satisfies Workers)
  app.probes.addStatus('workers', () => ({ ...pool.status(), cpu }))
  // Below one core of quota, every thread on one core, where the workers' nice value holds
  // (src/cpu-pin.ts). Once listening, so the cold start does not pay for it.
  app.addHook('onListen', async () => {
    try {
      const pin = await pinToOneCore(cpu.cpus)
      if ('cpu' in pin) {
        app.log.info({ cpu: pin.cpu }, 'threads kept on one core (below one CPU of quota)')
      } else app.log.info({ reason: pin.reason }, 'threads not kept on one core')
    } catch (error) {
      app.log.warn({ err: error }, 'threads not kept on one core')
    }
  })
  app.addHook('onClose', () => pool.close())
}

export default fp(workers, { name: 'workers', dependencies: ['probes'] })
