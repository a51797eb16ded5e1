/**
 * The build's start-up plugins (scripts/build-start-up.ts), each on a small bundle run in a fresh
 * Node: what it changes, that the code still works, and that a dependency that no longer matches
 * fails the build instead of shipping unchanged.
 */
import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build, type Plugin } from 'esbuild'
import t, { type Test } from 'tap'
import {
  ioredisCommandsInDictionaryMode,
  unusedBuiltinsOnFirstUse,
} from '../scripts/build-start-up.js'
import { ROOT } from './helpers/process.js'

async function bundle(t: Test, source: string, plugins: Plugin[], dir?: string) {
  const scratch = dir ?? (await mkdtemp(join(tmpdir(), 'freetier-build-start-up-')))
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

function run(file: string) {
  const result = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 30_000 })
  if (result.status !== 0)
    throw new Error(`${file} exited ${result.status ?? result.signal}:\n${result.stderr}`)
  return JSON.parse(result.stdout) as Record<string, unknown>
}

const HTTPS_ON_FIRST_USE = `
const loaded = () => process.moduleLoadList.includes('NativeModule https')
const https = require('node:https')
const afterRequire = loaded()
const agent = typeof https.globalAgent
console.log(JSON.stringify({ afterRequire, agent, afterUse: loaded(), has: 'request' in https }))
`

t.test('https and http2 load on first use, not on require()', async (t) => {
  const lazy = run(await bundle(t, HTTPS_ON_FIRST_USE, [unusedBuiltinsOnFirstUse]))
  t.same(lazy, { afterRequire: false, agent: 'object', afterUse: true, has: true })
  const eager = run(await bundle(t, HTTPS_ON_FIRST_USE, []))
  t.equal(eager.afterRequire, true, 'without the plugin, require() loads it at once')
})

t.test("ioredis's commands still work on its dictionary-mode prototype", async (t) => {
  const source = `
const { Redis } = require('ioredis')
const client = new Redis({ lazyConnect: true, enableOfflineQueue: false })
client.get('k').then(() => {}, (error) => {
  console.log(JSON.stringify({ get: typeof client.get, hsetBuffer: typeof client.hsetBuffer, error: error.message }))
  client.disconnect()
})
`
  const file = await bundle(t, source, [ioredisCommandsInDictionaryMode])
  t.match(await readFile(file, 'utf8'), /delete Commander\.prototype\.__freetierDictionaryMode/)
  t.match(run(file), {
    get: 'function',
    hsetBuffer: 'function',
    error: /writeable|offline queue/i,
  })
})

t.test('an ioredis whose Commander.js changed fails the build', async (t) => {
  const scratch = await mkdtemp(join(tmpdir(), 'freetier-build-start-up-'))
  const utils = join(scratch, 'node_modules', 'ioredis', 'built', 'utils')
  await mkdir(utils, { recursive: true })
  await writeFile(join(utils, 'Commander.js'), 'module.exports = class Commander {}\n')
  await t.rejects(
    bundle(
      t,
      "require('./node_modules/ioredis/built/utils/Commander.js')",
      [ioredisCommandsInDictionaryMode],
      scratch,
    ),
    /no longer has "const commands = commands_1\.list\.filter\("/,
  )
})
