// @ts-check
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseOptions } from '../lib/args.js'
import { detectPackageManager, runScript } from '../lib/package-manager.js'

test('options: defaults, switches, the directory', () => {
  const options = parseOptions(['app', '--no-redis', '--no-git', '--pm', 'pnpm', '-y'], {})
  assert.deepEqual(options, {
    dir: 'app',
    yes: true,
    redis: false,
    install: undefined,
    git: false,
    pm: 'pnpm',
    overwrite: false,
    help: false,
    version: false,
  })
  const none = parseOptions([], {})
  assert.equal(none.dir, undefined)
  assert.equal(none.redis, undefined, 'unanswered: asked on a terminal, default yes')
  assert.equal(none.pm, 'npm')
})

test('options: what the user cannot mean is refused, saying what to do', () => {
  /** @type {Array<[string[], RegExp]>} */
  const cases = [
    [['app', '--frobnicate'], /unknown option --frobnicate \(see --help\)/],
    [['app', '--pm', 'cargo'], /--pm must be one of npm, pnpm, yarn, bun; got "cargo"/],
    [['app', '--pm'], /--pm <value> needs a value/],
    [['a', 'b'], /expected one directory, got a b/],
  ]
  for (const [argv, message] of cases) {
    assert.throws(() => parseOptions(argv, {}), message, argv.join(' '))
  }
})

test('the package manager running us is the default', () => {
  const agent = (/** @type {string} */ ua) => detectPackageManager({ npm_config_user_agent: ua })
  assert.equal(agent('pnpm/12.21.0 npm/? node/v20.19.0 linux x64'), 'pnpm')
  assert.equal(agent('yarn/1.22.22 npm/? node/v20.19.0 linux x64'), 'yarn')
  assert.equal(agent('bun/1.2.0 npm/? node/v20.19.0 linux x64'), 'bun')
  assert.equal(agent('npm/11.0.0 node/v20.19.0 linux x64'), 'npm')
  assert.equal(agent('deno/2.0.0'), 'npm', 'unknown: npm')
  assert.equal(detectPackageManager({}), 'npm')
  assert.equal(parseOptions([], { npm_config_user_agent: 'pnpm/12.0.0' }).pm, 'pnpm')
  assert.deepEqual(
    ['npm', 'pnpm', 'yarn', 'bun'].map((pm) => runScript(pm, 'dev')),
    ['npm run dev', 'pnpm dev', 'yarn dev', 'bun run dev'],
  )
  assert.equal(runScript('npm', 'test'), 'npm test')
})
