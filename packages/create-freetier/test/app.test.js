// @ts-check
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parse } from 'yaml'
import { appFiles } from '../lib/app.js'
import { isTemplateOnly, templateFromCheckout } from '../lib/template.js'
import { ROOT } from './helpers.js'

const template = templateFromCheckout(ROOT)
const templatePkg = JSON.parse(template['package.json']?.text ?? '{}')

/** @param {Partial<import('../lib/app.js').AppChoices>} choices */
function make(choices) {
  return appFiles(template, { name: 'shop', pm: 'npm', redis: true, lockfile: true, ...choices })
}

/** @param {import('../lib/template.js').Template} files @param {string} file */
const text = (files, file) => files[file]?.text ?? assert.fail(`${file} missing`)

test("the app's package.json: its name, private, no template fields, the same dependencies", () => {
  const pkg = JSON.parse(text(make({ name: '@acme/shop' }), 'package.json'))
  assert.equal(pkg.name, '@acme/shop')
  assert.equal(pkg.version, '0.1.0')
  assert.equal(pkg.private, true)
  for (const field of ['description', 'license', 'keywords', 'repository', 'bin', 'files']) {
    assert.ok(!(field in pkg), `no ${field}`)
  }
  assert.deepEqual(pkg.dependencies, templatePkg.dependencies)
  assert.deepEqual(pkg.devDependencies, templatePkg.devDependencies)
  assert.deepEqual(pkg.engines, templatePkg.engines)
  assert.deepEqual(pkg.scripts, templatePkg.scripts, 'npm: the scripts as they are')
  assert.ok(!('packageManager' in pkg), 'npm: no packageManager field')
  const pnpm = JSON.parse(text(make({ pm: 'pnpm', pmVersion: '12.21.0' }), 'package.json'))
  assert.equal(pnpm.packageManager, 'pnpm@12.21.0')
})

test('the app has its own README and none of the template-only files', () => {
  const files = make({ name: 'shop', pm: 'pnpm' })
  const readme = text(files, 'README.md')
  assert.match(readme, /^# shop\n/)
  assert.match(readme, /pnpm install && pnpm start/)
  assert.match(readme, /render\.com\/deploy/)
  assert.match(readme, /docs\//)
  assert.doesNotMatch(readme, /npm create|REPLACE-ME|create-freetier@/)
  assert.notEqual(readme, template['README.md']?.text)
  assert.deepEqual(
    Object.keys(files).filter((file) => file !== 'README.md' && isTemplateOnly(file)),
    [],
  )
  assert.deepEqual(
    Object.keys(files).filter((file) => file !== 'README.md' && !(file in template)),
    [],
    'no file the template does not have, but the README',
  )
})

test('render.yaml: services named after the app, the build for its package manager', () => {
  const blueprint = parse(
    text(make({ name: '@acme/shop', pm: 'pnpm', pmVersion: '9.0.0' }), 'render.yaml'),
  )
  const web = blueprint.services.find((/** @type {{type: string}} */ s) => s.type === 'web')
  assert.equal(web.name, 'shop')
  assert.match(web.buildCommand, /^npx --yes pnpm@9\.0\.0 install --frozen-lockfile/)
  assert.deepEqual(
    blueprint.databases.map((/** @type {{name: string}} */ d) => d.name),
    ['shop-db'],
  )
  const kv = blueprint.services.find((/** @type {{type: string}} */ s) => s.type === 'keyvalue')
  assert.equal(kv.name, 'shop-kv')
  const noLock = parse(text(make({ lockfile: false }), 'render.yaml'))
  assert.match(noLock.services[0].buildCommand, /^npm install /, 'no lockfile: npm install')
})

test('--no-redis: no Key Value, no REDIS_* variables, nothing else changed in .env.example', () => {
  const files = make({ redis: false })
  const yaml = text(files, 'render.yaml')
  assert.doesNotMatch(yaml, /REDIS_URL|keyvalue/)
  const blueprint = parse(yaml)
  assert.deepEqual(
    blueprint.services.map((/** @type {{type: string}} */ s) => s.type),
    ['web'],
  )
  const env = text(files, '.env.example')
  assert.doesNotMatch(env, /REDIS_/)
  const original = text(template, '.env.example').split('\n')
  assert.deepEqual(
    env.split('\n').filter((line) => !original.includes(line)),
    [],
    'only lines removed',
  )
  assert.match(text(files, 'README.md'), /a web service and a Postgres database/)
})
