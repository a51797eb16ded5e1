/**
 * The build's ioredis plugin (scripts/build-start-up-redis.ts): the commands still work on the
 * dictionary-mode prototype, and an ioredis whose Commander.js changed fails the build instead of
 * shipping unchanged.
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ioredisCommandsInDictionaryMode } from '../scripts/build-start-up-redis.js'
import { bundle, runBundle } from './helpers/bundle.js'

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
  t.match(runBundle(file), {
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
