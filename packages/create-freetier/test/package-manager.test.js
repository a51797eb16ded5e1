// @ts-check
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { rewriteBuildCommand } from '../lib/blueprint.js'
import { buildCommandFor, PACKAGE_MANAGERS, scriptsFor } from '../lib/package-manager.js'
import { ROOT } from './helpers.js'

const blueprint = fs.readFileSync(path.join(ROOT, 'render.yaml'), 'utf8')
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))

test("render.yaml's buildCommand, as the template has it, translates for every package manager", () => {
  for (const pm of PACKAGE_MANAGERS) {
    for (const lockfile of [true, false]) {
      let command = ''
      rewriteBuildCommand(blueprint, (original) => {
        command = buildCommandFor(original, pm, { lockfile, version: '1.2.3' })
        return command
      })
      assert.ok(command.length > 0, `${pm}: a command`)
      if (pm !== 'npm') assert.doesNotMatch(command, /(^|&& )npm /, `${pm}: no npm step left`)
      assert.match(command, /run build/, `${pm}: builds`)
    }
  }
})

test('build commands: installs with or without a lockfile, dev dependencies included', () => {
  const command = 'npm ci --include=dev && npm run build && npm prune --omit=dev'
  const build = (/** @type {string} */ pm, /** @type {boolean} */ lockfile) =>
    buildCommandFor(command, pm, { lockfile, version: '12.21.0' })
  assert.equal(build('npm', true), command)
  assert.equal(
    build('npm', false),
    'npm install --include=dev && npm run build && npm prune --omit=dev',
  )
  assert.equal(
    build('pnpm', true),
    'npx --yes pnpm@12.21.0 install --frozen-lockfile --prod=false && npx --yes pnpm@12.21.0 run build && npx --yes pnpm@12.21.0 prune --prod',
  )
  assert.match(build('pnpm', false), /install --no-frozen-lockfile --prod=false/)
  assert.equal(
    build('yarn', true),
    'npx --yes yarn@12.21.0 install --frozen-lockfile --production=false && npx --yes yarn@12.21.0 run build',
  )
  assert.equal(
    buildCommandFor('npm ci && npm run build', 'bun', { lockfile: false }),
    'npx --yes bun@latest install && npx --yes bun@latest run build',
  )
  assert.throws(
    () => buildCommandFor('npm ci && npm audit fix', 'pnpm', { lockfile: true }),
    /step "npm audit fix" has no pnpm translation/,
  )
  assert.equal(
    buildCommandFor('npm ci && ./scripts/x.sh', 'pnpm', { lockfile: true, version: '1.0.0' }),
    'npx --yes pnpm@1.0.0 install --frozen-lockfile && ./scripts/x.sh',
    'steps that are not npm stay',
  )
})

test('buildCommand is found on one line or as a folded block', () => {
  const folded =
    'services:\n  - type: web\n    buildCommand: >-\n      npm ci\n      && npm run build\n    startCommand: node x.js\n'
  assert.equal(
    rewriteBuildCommand(folded, (c) => c.toUpperCase()),
    'services:\n  - type: web\n    buildCommand: NPM CI && NPM RUN BUILD\n    startCommand: node x.js\n',
  )
  const quoted = 'services:\n  - buildCommand: "npm ci && npm run build"\n'
  assert.equal(
    rewriteBuildCommand(quoted, (c) => `[${c}]`),
    'services:\n  - buildCommand: [npm ci && npm run build]\n',
  )
})

test('scripts: npm run becomes the package manager, pre/post hooks fold in', () => {
  const scripts = {
    prestart: 'npm run build --silent',
    start: 'node dist/start.js',
    test: 'npm run build:test --silent && tap',
    lint: 'npx biome check .',
  }
  assert.deepEqual(scriptsFor(scripts, 'npm'), scripts)
  assert.deepEqual(scriptsFor(scripts, 'pnpm'), {
    start: 'pnpm run --silent build && node dist/start.js',
    test: 'pnpm run --silent build:test && tap',
    lint: 'pnpm exec biome check .',
  })
  assert.deepEqual(scriptsFor(scripts, 'yarn'), {
    start: 'yarn run build && node dist/start.js',
    test: 'yarn run build:test && tap',
    lint: 'yarn biome check .',
  })
  assert.equal(scriptsFor(scripts, 'bun').test, 'bun run --silent build:test && tap')
  for (const pm of PACKAGE_MANAGERS.filter((pm) => pm !== 'npm')) {
    const translated = Object.values(scriptsFor(pkg.scripts, pm)).join('\n')
    assert.doesNotMatch(translated, /\bnpm (run|test|start)\b|\bnpx\b/, `${pm}: no npm left`)
  }
})
