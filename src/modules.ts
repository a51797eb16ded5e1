/**
 * Where the app's own modules are, in the form this process runs them: the TypeScript sources
 * under tsx (`npm run dev`), tsc's output in dist/src (tests), or the production bundle in
 * dist/app (`npm run build`; scripts/build.ts). For what is loaded by file name rather than by
 * import: worker entry and tasks, child processes.
 *
 * This file sits at the root of src/, and the build keeps its code in files at the root of the
 * bundle (it fails otherwise), so in every form the modules are found next to it.
 */
const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js'

/** The file: URL of an app module named from src/ without extension, e.g. `notes/render.task`. */
export function appModule(path: string): string {
  return new URL(`./${path}${extension}`, import.meta.url).href
}

/** True under tsx (TypeScript sources), where workers and child processes need its loader. */
export const fromSources = extension === '.ts'
