// @ts-check
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { isTemplateOnly, TEMPLATE_ONLY, templateFromCheckout } from '../lib/template.js'
import { ROOT } from './helpers.js'

test('template-only files are recognised by the one list', () => {
  for (const file of [
    'packages/create-freetier/create.js',
    '.ci/run',
    'LICENSE',
    'package-lock.json',
    'docs/create.md',
    'docs/bench-rss.svg',
    'docs/bench-results.md',
    'scripts/bench-publish.ts',
  ]) {
    assert.ok(isTemplateOnly(file), `${file} is template-only`)
  }
  for (const file of [
    'src/app.ts',
    'docs/deploy.md',
    'docs/benchmarks.md',
    'bench/scenarios.ts',
    'test/README.md',
    'src/packages/x.ts',
  ]) {
    assert.ok(!isTemplateOnly(file), `${file} belongs to the app`)
  }
  assert.ok(TEMPLATE_ONLY.length < 20, 'the list stays short')
})

test('the template from this checkout: what git tracks, less the template-only files', () => {
  const template = templateFromCheckout(ROOT)
  const files = Object.keys(template)
  const tracked = spawnSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
  for (const file of ['package.json', 'render.yaml', '.env.example', '.gitignore', 'src/app.ts']) {
    assert.ok(files.includes(file), `${file} is in the template`)
  }
  assert.deepEqual(
    files.filter((file) => !tracked.includes(file)),
    [],
    'nothing git does not track (build output, node_modules, .env, local data)',
  )
  assert.deepEqual(files.filter(isTemplateOnly), [], 'no template-only file')
  assert.deepEqual(
    tracked.filter((file) => !isTemplateOnly(file) && !files.includes(file)),
    [],
    'every other tracked file',
  )
  const pkg = JSON.parse(template['package.json']?.text ?? '{}')
  assert.equal(pkg.private, true, 'the root package.json is the app')
})
