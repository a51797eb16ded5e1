/**
 * The tasks the worker pool can run: name -> the task's function type. A task is a module whose
 * default export takes one structured-clonable payload and returns (or resolves to) a
 * structured-clonable result. A module adds its own task with declaration merging and one
 * `app.workers.define(name, taskModule('./my-task', import.meta.url))` call, as src/notes does:
 *
 *   declare module '../workers/tasks.js' {
 *     interface WorkerTasks { 'my-task': typeof myTask }
 *   }
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in each module.
export interface WorkerTasks {}

// Dev mode (tsx) runs this file as .ts, production as compiled .js: tasks follow suit.
const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js'

/**
 * The file: URL of a task module given relative to `base` (the caller's import.meta.url), in the
 * form this process can load: `.ts` under tsx, `.js` when compiled.
 */
export function taskModule(relativePath: string, base: string = import.meta.url): string {
  return new URL(`${relativePath}${extension}`, base).href
}

/** The worker entry: compiled, or under tsx a JavaScript shim that makes workers load .ts. */
export const ENTRY_MODULE =
  extension === '.ts' ? new URL('./dev-entry.mjs', import.meta.url).href : taskModule('./entry')
