// @ts-check
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isRedisOnly, leftovers, stripRedisLines, withoutRedis } from '../lib/redis.js'
import { templateFromCheckout } from '../lib/template.js'
import { ROOT } from './helpers.js'

test('Redis-only files: a redis folder, or redis as a word of a code file name', () => {
  for (const file of [
    'src/plugins/redis.ts',
    'src/plugins/redis-cache.ts',
    'src/cache/redis-l2.ts',
    'src/redis/breaker.ts',
    'test/redis.test.ts',
    'test/helpers/redis.ts',
    'test/redis-cache-outage.test.ts',
  ]) {
    assert.ok(isRedisOnly(file), file)
  }
  for (const file of [
    'src/plugins/cache.ts',
    'docs/redis.md',
    'src/predis.ts',
    'src/rediscover.ts',
  ]) {
    assert.ok(!isRedisOnly(file), file)
  }
})

test('marked lines and blocks go; what is left stays formatted', () => {
  const text = [
    "import a from './a.js'",
    "import r from './redis.js' // redis-only",
    '',
    'a()',
    '',
    '// redis-only: start',
    'r()',
    '// redis-only: end',
    '',
    'done()',
    '',
  ].join('\n')
  assert.equal(stripRedisLines(text, 'x.ts'), "import a from './a.js'\n\na()\n\ndone()\n")
  assert.throws(() => stripRedisLines('// redis-only: start\n', 'x.ts'), /start without an end/)
  assert.throws(() => stripRedisLines('// redis-only: end\n', 'x.ts'), /end without a start/)
})

test('leftovers: imports of deleted files or of ioredis are named', () => {
  const files = {
    'src/app.ts': { text: "import redis from './plugins/redis.js'\nimport x from './x.js'\n" },
    'src/x.ts': { text: "import type { Redis } from 'ioredis'\n" },
  }
  assert.deepEqual(leftovers(files, new Set(['src/plugins/redis.ts'])), [
    'src/app.ts imports ./plugins/redis.js (Redis-only, deleted)',
    'src/x.ts imports ioredis',
  ])
  assert.throws(
    () => withoutRedis({ ...files, 'src/plugins/redis.ts': { text: '' } }),
    /cannot make an app without Redis[\s\S]*src\/app\.ts imports/,
  )
})

test('this template keeps the rule: without Redis nothing refers to what was deleted', () => {
  const template = templateFromCheckout(ROOT)
  const lean = withoutRedis(template)
  const deleted = Object.keys(template).filter((file) => !(file in lean))
  assert.ok(deleted.includes('src/plugins/redis.ts'), 'the Redis plugin goes')
  assert.deepEqual(
    deleted.filter((file) => !isRedisOnly(file)),
    [],
    'only Redis-only files go',
  )
  assert.equal(JSON.parse(lean['package.json']?.text ?? '{}').dependencies.ioredis, undefined)
  for (const [file, { text }] of Object.entries(lean)) {
    if (/\.(ts|js|mjs)$/.test(file)) assert.doesNotMatch(text, /redis-only/, file)
  }
  assert.doesNotMatch(lean['src/app.ts']?.text ?? '', /redis/i, 'src/app.ts registers no Redis')
})
