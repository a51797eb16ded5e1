import { appModule, fromSources } from '../modules.js'

/**
 * The tasks the worker pool can run: name -> the task's function type. A task is a module named
 * `*.task.ts` (the build bundles each one as its own entry) whose default export takes one
 * structured-clonable payload and returns (or resolves to) a structured-clonable result. A
 * module adds its own task with declaration merging and one
 * `app.workers.define(name, taskModule('my-module/my.task'))` call, as src/notes does:
 *
 *   declare module '../workers/tasks.js' {
 *     interface WorkerTasks { 'my-task': typeof myTask }
 *   }
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in each module.
export interface WorkerTasks {}

/** The file: URL of a task module named from src/ without extension, e.g. `notes/render.task`. */
export function taskModule(path: `${string}.task`): string {
  return appModule(path)
}

/** The worker entry: compiled, or under tsx a JavaScript shim that makes workers load .ts. */
export const ENTRY_MODULE = fromSources
  ? new URL('./dev-entry.mjs', import.meta.url).href
  : appModule('workers/entry')
