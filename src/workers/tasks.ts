import type render from './render.js'

/**
 * The tasks the worker pool can run: name -> the task's function type. A task is a module in
 * this folder whose default export takes one structured-clonable payload and returns (or
 * resolves to) a structured-clonable result. To add one: write `src/workers/<name>.ts`, add
 * `<name>: typeof <fn>` here and `<name>: taskModule('<name>')` to TASK_MODULES.
 */
export interface WorkerTasks {
  render: typeof render
}

// Dev mode (tsx) runs this file as .ts, production as compiled .js: tasks follow suit.
const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js'

/** The file: URL of a module next to this one, in the form this process can load. */
export function taskModule(name: string): string {
  return new URL(`./${name}${extension}`, import.meta.url).href
}

/** The modules of the built-in tasks (others can be added at run time with `app.workers.define`). */
export const TASK_MODULES = {
  render: taskModule('render'),
} satisfies { [K in keyof WorkerTasks]?: string }

/** The worker entry: compiled, or under tsx a JavaScript shim that makes workers load .ts. */
export const ENTRY_MODULE =
  extension === '.ts' ? new URL('./dev-entry.mjs', import.meta.url).href : taskModule('entry')
