import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'

/**
 * Fills V8's compile cache for the bundle in `outDir` (dist/app), as Node run with `nodeArgs`
 * will read it: the bootstrap runs with an invalid PORT, so the server loads (Node compiles)
 * every module it needs at start, then exits on the config error. Node keys the cache by its
 * version and V8 flags (one folder per key in `compile-cache/`), compiles afresh on a mismatch,
 * and Node 20 has none. `env` adds to this process's environment (MEMORY_LIMIT_MB: the plan the
 * flags were made for). Returns whether a cache exists.
 */
export function makeCompileCache(
  outDir: string,
  nodeArgs: readonly string[] = [],
  env: Record<string, string> = {},
): boolean {
  const dir = resolve(outDir, 'compile-cache')
  const run = spawnSync(process.execPath, [...nodeArgs, resolve(outDir, 'start.js')], {
    env: { ...process.env, ...env, NODE_COMPILE_CACHE: dir, PORT: 'none' },
    encoding: 'utf8',
  })
  if (run.status !== 1 || !run.stderr.includes('PORT: got "none"')) {
    throw new Error(`the compile cache run did not stop at the config:\n${run.stderr}`)
  }
  return existsSync(dir)
}
