// @ts-check
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { explainName, nameProblems, resolveTarget, suggestName } from '../lib/names.js'

test('names npm accepts', () => {
  for (const name of ['app', 'my-app', 'my.app', 'app_2', '@acme/shop', 'a'.repeat(214)]) {
    assert.deepEqual(nameProblems(name), [], name)
  }
})

test('names npm refuses: why, and a name that works', () => {
  /** @type {Array<[string, RegExp, string]>} */
  const cases = [
    ['My App', /capital letters/, 'my-app'],
    ['.app', /starts with a period/, 'app'],
    ['_app', /starts with an underscore/, 'app'],
    ['node_modules', /"node_modules" is a reserved name/, 'node_modules-app'],
    ['http', /"http" is the name of a Node core module/, 'http-app'],
    ['a'.repeat(215), /longer than 214 characters/, 'a'.repeat(214)],
    ["it's", /one of the characters ~'!\(\)\*/, 'it-s'],
    ['', /it is empty/, 'my-freetier-app'],
  ]
  for (const [name, problem, suggestion] of cases) {
    assert.match(explainName(name) ?? '', problem, name)
    assert.equal(suggestName(name), suggestion, name)
    assert.deepEqual(nameProblems(suggestName(name)), [], `the suggestion for ${name} is valid`)
  }
  assert.equal(explainName('fine'), undefined)
})

test('the target: a path whose last part is the name, or a scoped name', () => {
  assert.deepEqual(resolveTarget('apps/shop', '/work'), { dir: '/work/apps/shop', name: 'shop' })
  assert.deepEqual(resolveTarget('@acme/shop', '/work'), { dir: '/work/shop', name: '@acme/shop' })
  assert.deepEqual(resolveTarget('.', '/work/app'), { dir: '/work/app', name: 'app' })
})
