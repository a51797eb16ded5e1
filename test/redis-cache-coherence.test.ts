import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import type { App } from '../src/app.js'
import { SUBSCRIBE_WARN_AFTER_MS } from '../src/plugins/redis-cache.js'
import { buildAppOnFileDatabase } from './helpers/app.js'
import { eventually } from './helpers/cache.js'
import { captureLogs } from './helpers/logs.js'
import { type OwnRedis, ownRedis, randomPrefix } from './helpers/redis.js'
import { type TcpProxy, tcpProxy } from './helpers/tcp-proxy.js'

/**
 * Two app instances, each reaching a private redis-server through its own proxy, so each can
 * lose Redis (or one of its connections) on its own. The source of truth is a Map both share
 * (what Postgres is to the notes): `PUT /item/:id` writes it and invalidates before answering,
 * `GET /item/:id` reads through the `queries` cache.
 */
async function cluster(t: Test) {
  const redis = await ownRedis(t)
  const truth = new Map<string, string>()
  const routes = async (app: FastifyInstance) => {
    app.get<{ Params: { id: string } }>('/item/:id', async (request, reply) => {
      const { id } = request.params
      const cached = await app.cache.queries.getOrLoad(id, async () =>
        JSON.stringify({ id, value: truth.get(id) ?? null }),
      )
      return reply.sendCached(cached)
    })
    app.put<{ Params: { id: string }; Body: { value: string } }>('/item/:id', async (request) => {
      truth.set(request.params.id, request.body.value)
      await app.cache.queries.invalidate({ keys: [request.params.id] })
      return { ok: true }
    })
  }
  const env = {
    REDIS_KEY_PREFIX: randomPrefix(),
    RATE_LIMIT_MAX: '1000000',
  }
  const instance = async () => {
    const proxy = await tcpProxy(t, redis.port)
    const app = await buildAppOnFileDatabase(
      t,
      { ...env, REDIS_URL: `redis://127.0.0.1:${proxy.port}` },
      routes,
    )
    return { app, proxy }
  }
  const a = await instance()
  const b = await instance()
  t.ok(
    await eventually(async () => (await coherent(a.app)) && (await coherent(b.app)), 10_000),
    'both instances see each other and trust their caches',
  )
  return { redis, a, b }
}

interface Instance {
  app: App
  proxy: TcpProxy
}

const status = async (app: App) => (await app.inject('/status')).json().cache

/** Sees its peer, listens on the channel, and trusts its caches. */
async function coherent(app: App) {
  const { coherence, namespaces } = await status(app)
  return (
    coherence.peers === 1 &&
    coherence.channel === 'subscribed' &&
    coherence.trustedForMs > 0 &&
    namespaces.queries.l2.state === 'up'
  )
}

const read = async (app: App, id = 'x') => {
  const res = await app.inject(`/item/${id}`)
  return { value: res.json().value as string | null, cache: res.headers['x-cache'] }
}

const write = async (app: App, value: string, id = 'x') =>
  (await app.inject({ method: 'PUT', url: `/item/${id}`, payload: { value } })).statusCode

/** v0 written and cached everywhere: A and B hold it in L1, Redis in L2. */
async function cachedEverywhere(t: Test, { a, b }: { a: Instance; b: Instance }) {
  t.equal(await write(a.app, 'v0'), 200)
  t.match(await read(a.app), { value: 'v0', cache: 'miss' })
  t.match(await read(b.app), { value: 'v0', cache: 'l2' })
  t.match(await read(b.app), { value: 'v0', cache: 'l1' })
}

/** Every read on each instance returns `value`, `times` times over. */
async function allRead(t: Test, apps: App[], value: string, what: string, times = 5) {
  const seen: Array<string | null> = []
  for (let i = 0; i < times; i++) for (const app of apps) seen.push((await read(app)).value)
  t.same(new Set(seen), new Set([value]), `${what}: ${seen.length} reads, all ${value}`)
}

const checks = async (app: App) => (await status(app)).coherence.checks as number

async function backToCaching(t: Test, { a, b }: { a: Instance; b: Instance }, value: string) {
  t.ok(
    await eventually(async () => (await coherent(a.app)) && (await coherent(b.app)), 15_000),
    'both trust their caches again',
  )
  for (const [name, app] of [
    ['A', a.app],
    ['B', b.app],
  ] as const) {
    const values = new Set<string | null>()
    const cached = await eventually(async () => {
      const res = await read(app)
      values.add(res.value)
      return res.cache === 'l1'
    }, 10_000)
    t.ok(cached, `${name} caches again`)
    t.same(values, new Set([value]), `${name} read only ${value} meanwhile`)
  }
}

t.test('only the writer is cut off from Redis: no instance reads the old value', async (t) => {
  const { a, b } = await cluster(t)
  await cachedEverywhere(t, { a, b })
  await a.proxy.cut()
  t.equal(await write(a.app, 'v1'), 200, 'the write answers (after its fence)')
  t.match((await status(a.app)).namespaces.queries.l2, { state: 'bypassed' })
  t.equal((await status(a.app)).coherence.fences, 1, 'it waited for the peers to distrust it')
  t.match((await status(b.app)).namespaces.queries.l2, { state: 'distrusted' })
  await allRead(t, [b.app, a.app], 'v1', 'right after the answer, with the writer still cut off')

  await a.proxy.restore()
  await backToCaching(t, { a, b }, 'v1')
})

t.test("the writer's connection returns after the other's: no old value from Redis", async (t) => {
  const { a, b } = await cluster(t)
  await cachedEverywhere(t, { a, b })
  await a.proxy.cut()
  await b.proxy.cut()
  t.equal(await write(a.app, 'v1'), 200)
  await allRead(t, [b.app, a.app], 'v1', 'both cut off')

  await b.proxy.restore()
  const before = await checks(b.app)
  t.ok(await eventually(async () => (await checks(b.app)) >= before + 2, 10_000), 'B checks again')
  t.match((await status(b.app)).namespaces.queries.l2, { state: 'distrusted' }, 'A is silent')
  await allRead(t, [b.app], 'v1', 'B back, the writer still cut off (Redis still holds v0)')

  await a.proxy.restore()
  await backToCaching(t, { a, b }, 'v1')
})

t.test(
  'a subscriber that hangs loses a message: its L1 is distrusted within a check',
  async (t) => {
    const { a, b } = await cluster(t)
    await cachedEverywhere(t, { a, b })
    // B's invalidation connection stalls; its command connection and A stay healthy.
    b.proxy.hang(':invalidation')
    t.equal(await write(a.app, 'v1'), 200)
    const answered = await checks(b.app)
    let stale = 0
    t.ok(
      await eventually(async () => {
        const { value } = await read(b.app)
        if (value === 'v0') stale++
        return value === 'v1'
      }, 10_000),
      'B reads the new value',
    )
    const after = (await checks(b.app)) - answered
    t.ok(
      after <= 2,
      `within ${after} of B's checks after the write answered (${stale} stale reads)`,
    )
    await allRead(t, [b.app], 'v1', 'and from then on')

    await b.proxy.restore()
    await backToCaching(t, { a, b }, 'v1')
  },
)

t.test('a SUBSCRIBE that gets no answer is retried until it succeeds', async (t) => {
  const redis: OwnRedis = await ownRedis(t)
  const proxy = await tcpProxy(t, redis.port)
  proxy.hold('subscribe')
  const { lines, stream } = captureLogs()
  const app = await buildAppOnFileDatabase(
    t,
    { REDIS_URL: `redis://127.0.0.1:${proxy.port}`, REDIS_KEY_PREFIX: randomPrefix() },
    [],
    { logger: { level: 'info', stream } },
  )
  const failures = (level: number) =>
    lines.filter((l) => l.level === level && /cannot subscribe/.test(String(l.msg))).length
  t.ok(
    await eventually(async () => (await status(app)).coherence.subscribe.failures >= 2, 10_000),
    'the first SUBSCRIBE timed out and was retried',
  )
  t.ok(failures(30) >= 2, 'the first failures are logged at info (at start: a late reply)')
  t.ok(
    await eventually(async () => failures(40) > 0, SUBSCRIBE_WARN_AFTER_MS * 3),
    `still failing after ${SUBSCRIBE_WARN_AFTER_MS} ms: a warning`,
  )
  t.equal((await status(app)).invalidation, 'down')
  t.ok(proxy.held > 0, 'its bytes are held by the proxy')
  proxy.release()
  t.ok(
    await eventually(async () => (await status(app)).invalidation === 'subscribed', 10_000),
    'subscribed once Redis answers',
  )
  const { subscribe } = (await status(app)).coherence
  t.ok(subscribe.attempts > subscribe.failures, `attempts ${subscribe.attempts}`)
})
