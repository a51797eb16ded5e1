/**
 * The build's start-up plugins (scripts/build-start-up.ts), each on a small bundle run in a fresh
 * Node: what it changes, and that the code still works. ioredis's: build-start-up-redis.test.ts.
 */
import t from 'tap'
import { unusedBuiltinsOnFirstUse } from '../scripts/build-start-up.js'
import { bundle, runBundle } from './helpers/bundle.js'

const ON_FIRST_USE = `
const loaded = (name) => process.moduleLoadList.includes('NativeModule ' + name)
const https = require('node:https')
const http2 = require('http2')
const afterRequire = loaded('https') || loaded('http2')
const agent = typeof https.globalAgent
const constants = typeof http2.constants
console.log(JSON.stringify({
  afterRequire, agent, constants, afterUse: loaded('https') && loaded('http2'), has: 'request' in https,
}))
`

t.test('https and http2 load on first use, not on require()', async (t) => {
  const lazy = runBundle(await bundle(t, ON_FIRST_USE, [unusedBuiltinsOnFirstUse]))
  t.same(lazy, {
    afterRequire: false,
    agent: 'object',
    constants: 'object',
    afterUse: true,
    has: true,
  })
  const eager = runBundle(await bundle(t, ON_FIRST_USE, []))
  t.equal(eager.afterRequire, true, 'without the plugin, require() loads it at once')
})
