/**
 * The worker thread's entry (piscina runs this file in every worker): loads the task module the
 * main thread names, runs it, and reports what the pool needs to recycle the worker.
 */
import { setPriority } from 'node:os'
import { getHeapStatistics } from 'node:v8'
import { threadId } from 'node:worker_threads'
import { WORKER_NICE } from '../cpu.js'

// Workers share the process's CPU quota with the event loop: at the lowest priority a worker
// runs on what the event loop leaves, so a render does not delay /healthz. On Linux the nice
// value is per thread: this lowers only this one (Node's own start of the thread runs before).
// Elsewhere it is the whole process's, the event loop's too: left alone.
if (process.platform === 'linux') {
  try {
    setPriority(WORKER_NICE)
  } catch {
    // Not allowed here: the worker runs at the process's priority.
  }
}

export interface TaskMessage {
  /** file: URL of the task module; its default export is the task. */
  module: string
  payload: unknown
  /** Set to 1 here when the task starts: the pool tells a task that never ran from one that did. */
  started: Int32Array
  /** Date.now() after which the task is not started: it could not finish within its budget. */
  startBy: number
}

export type TaskReply = RanReply | LateReply

/** The task reached this thread after its startBy and was not run. */
export interface LateReply {
  late: true
  threadId: number
}

export interface RanReply {
  late?: undefined
  result: unknown
  threadId: number
  /** V8 heap in use after the task, so the pool can retire a worker that grew past its budget. */
  heapUsedBytes: number
  /** Wall time the task took on this worker (loading its module included), in ms. */
  runMs: number
}

type TaskFunction = (payload: unknown) => unknown
const modules = new Map<string, Promise<{ default: TaskFunction }>>()

export default async function runTask(message: TaskMessage): Promise<TaskReply> {
  if (Date.now() > message.startBy) return { late: true, threadId }
  Atomics.store(message.started, 0, 1)
  const { module, payload } = message
  const startedAt = performance.now()
  let loaded = modules.get(module)
  if (loaded === undefined) {
    loaded = import(module) as Promise<{ default: TaskFunction }>
    modules.set(module, loaded)
  }
  const task = (await loaded).default
  const result = await task(payload)
  return {
    result,
    threadId,
    heapUsedBytes: getHeapStatistics().used_heap_size,
    runMs: performance.now() - startedAt,
  }
}
