import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build, type Plugin } from 'esbuild'
import type { Test } from 'tap'
import { ROOT } from './process.js'

/**
 * Bundles `source` (a CommonJS entry) with esbuild and `plugins`, as scripts/build.ts would, in a
 * scratch directory (or `dir`) removed when the test ends. Returns the bundle's path.
 */
export async function bundle(t: Test, source: string, plugins: Plugin[], dir?: string) {
  const scratch = dir ?? (await mkdtemp(join(tmpdir(), 'freetier-bundle-')))
  t.teardown(() => rm(scratch, { recursive: true, force: true }))
  const entry = join(scratch, 'entry.cjs')
  const outfile = join(scratch, 'out.cjs')
  await writeFile(entry, source)
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    plugins,
    nodePaths: [join(ROOT, 'node_modules')],
    logLevel: 'silent',
  })
  return outfile
}

/** Runs a bundle in a fresh Node; what it printed, as JSON. */
export function runBundle(file: string) {
  const result = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 30_000 })
  if (result.status !== 0)
    throw new Error(`${file} exited ${result.status ?? result.signal}:\n${result.stderr}`)
  return JSON.parse(result.stdout) as Record<string, unknown>
}
