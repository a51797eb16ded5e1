import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'

t.test('defaults work with an empty environment', async (t) => {
  const config = loadConfig({})
  t.equal(config.NODE_ENV, 'development')
  t.equal(config.PORT, 10000)
  t.equal(config.host, '127.0.0.1')
  t.equal(config.trustProxy, false)
  t.equal(config.PG_POOL_MAX, 5)
  t.equal(config.REDIS_MAX_CONNECTIONS, 10) // redis-only
  t.equal(config.CACHE_VIEWS_TTL, 300)
  t.equal(config.CACHE_QUERIES_TTL, 600)
  t.equal(config.WORKER_THREADS, undefined, 'sized from the CPU quota (src/cpu.ts)')
  t.equal(config.MEMORY_LIMIT_MB, undefined)
  t.equal(config.isProduction, false)
})

t.test('values are coerced and derived settings follow the platform', async (t) => {
  const onRender = loadConfig({ RENDER: 'true', PORT: '10000', MEMORY_LIMIT_MB: '512' })
  t.equal(onRender.host, '0.0.0.0', 'binds all interfaces on Render')
  t.equal(onRender.trustProxy, 2, 'trusts Cloudflare and Render proxy hops')
  t.equal(onRender.MEMORY_LIMIT_MB, 512)
  const prod = loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://x@db/app' })
  t.equal(prod.host, '0.0.0.0')
  t.equal(loadConfig({ HOST: '::1', TRUST_PROXY_HOPS: '1' }).host, '::1')
  t.equal(loadConfig({ TRUST_PROXY_HOPS: '1' }).trustProxy, 1)
  t.equal(loadConfig({ RENDER: 'true', TRUST_PROXY_HOPS: '0' }).trustProxy, false)
  t.equal(loadConfig({ STATUS_TOKEN: '' }).STATUS_TOKEN, undefined, 'empty counts as unset')
})

t.test('every problem is listed with the value given and what is expected', async (t) => {
  const error = t.throws(() =>
    loadConfig({ PORT: 'abc', MEMORY_LIMIT_MB: '-1', LOG_LEVEL: 'loud', NODE_ENV: 'staging' }),
  ) as ConfigError
  t.type(error, ConfigError)
  t.equal(error.problems.length, 4)
  t.match(error.message, /PORT: got "abc", expected must be integer/)
  t.match(error.message, /MEMORY_LIMIT_MB: got "-1", expected must be >= 64/)
  t.match(error.message, /LOG_LEVEL: got "loud", expected one of fatal, error, warn, info/)
  t.match(error.message, /NODE_ENV: got "staging", expected one of development, production, test/)
})

t.test('production refuses a missing DATABASE_URL', async (t) => {
  const error = t.throws(() => loadConfig({ NODE_ENV: 'production' })) as ConfigError
  t.match(error.message, /DATABASE_URL: got nothing, expected a postgres:\/\/ URL in production/)
  t.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL: got "mysql:\/\/x"/)
  t.throws(() => loadConfig({ REDIS_URL: 'http://x' }), /REDIS_URL/) // redis-only
  t.throws(() => loadConfig({ STATUS_TOKEN: 'short' }), /STATUS_TOKEN/)
})

t.test('the source object is not modified', async (t) => {
  const env = { PORT: '1234' }
  loadConfig(env)
  t.same(env, { PORT: '1234' })
})
