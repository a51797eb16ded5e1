/**
 * The build's start-up plugin for ioredis (scripts/build-start-up.ts has the others); Redis-only:
 * an app made without Redis has no ioredis to fix.
 */
import { readFile } from 'node:fs/promises'
import type { Plugin } from 'esbuild'

const IOREDIS_COMMANDER = /[/\\]ioredis[/\\]built[/\\]utils[/\\]Commander\.js$/
const COMMAND_LOOP = 'const commands = commands_1.list.filter('

/**
 * ioredis adds its ~600 command methods to Commander.prototype one by one at load. On a
 * prototype in V8's fast mode each addition copies the descriptors before it: ~10 ms of CPU
 * (Node 20 to 26). On a prototype in dictionary mode the same loop takes ~0.4 ms; V8 makes the
 * prototype fast again when it is first used as one, so calls cost the same afterwards.
 */
export const ioredisCommandsInDictionaryMode: Plugin = {
  name: 'ioredis-commands-in-dictionary-mode',
  setup(build) {
    build.onLoad({ filter: IOREDIS_COMMANDER }, async ({ path }) => {
      const source = await readFile(path, 'utf8')
      if (!source.includes(COMMAND_LOOP)) {
        throw new Error(
          `build: ${path} no longer has "${COMMAND_LOOP}": check scripts/build-start-up-redis.ts against this ioredis`,
        )
      }
      const toDictionaryMode = [
        '// freetier build (scripts/build-start-up-redis.ts): the loop below adds methods to a dictionary.',
        'Commander.prototype.__freetierDictionaryMode = 0;',
        'delete Commander.prototype.__freetierDictionaryMode;',
      ].join('\n')
      return { contents: source.replace(COMMAND_LOOP, `${toDictionaryMode}\n${COMMAND_LOOP}`) }
    })
  },
}
