import { Readable } from 'node:stream'
import t, { type Test } from 'tap'
import { MemoryBudget } from '../src/memory-budget.js'
import { UNLEASED_RESPONSE_BYTES } from '../src/plugins/memory-budget.js'
import { buildAppOnFileDatabase } from './helpers/app.js'
import { assertUnavailable } from './helpers/http.js'
import { waitFor } from './helpers/workers.js'

const MB = 1024 * 1024

t.test('a lease grows only into what is free, shrinks and releases always', async (t) => {
  let heap = 0
  const budget = new MemoryBudget(10 * MB, 100 * MB, () => heap)
  const a = { bytes: 0 }
  const b = { bytes: 0 }
  t.ok(budget.resize(a, 6 * MB))
  t.notOk(budget.resize(b, 5 * MB), 'does not fit beside the other')
  t.equal(b.bytes, 0, 'a refused lease keeps what it had')
  t.ok(budget.resize(b, 4 * MB), 'fits exactly')
  t.ok(budget.resize(a, 1 * MB), 'shrinking is always allowed')
  t.ok(budget.resize(b, 9 * MB))
  budget.release(a)
  budget.release(b)
  t.same(budget.status(), { maxBytes: 10 * MB, usedBytes: 0, peakBytes: 10 * MB, refused: 1 })

  t.ok(budget.resize(a, 50 * MB), 'alone, a holder gets what it asks: nothing is refused forever')
  t.notOk(budget.resize(b, 1), 'but nothing beside it')
  budget.release(a)

  t.ok(budget.resize(a, MB))
  heap = 99.5 * MB
  t.notOk(budget.resize(b, MB), 'the heap in use right now counts too')
  heap = 50 * MB
  t.ok(budget.resize(b, MB))
})

/** 256 MB plan: 16 MB in flight. `/t/hold` keeps HOLD bytes until `release()`. */
const HOLD = 15.5 * MB
async function appWithHeldBytes(t: Test) {
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  const app = await buildAppOnFileDatabase(t, { MEMORY_LIMIT_MB: '256' }, async (app) => {
    app.get('/t/hold', async (request) => {
      request.reserveMemory(HOLD)
      await held
      return { held: true }
    })
    app.get('/t/big', async () => ({ text: 'x'.repeat(2 * MB) }))
    app.get('/t/small', async () => ({ text: 'x'.repeat(UNLEASED_RESPONSE_BYTES - 100) }))
    app.get('/t/just-over', async () => ({ text: 'x'.repeat(UNLEASED_RESPONSE_BYTES) }))
    app.get('/t/stream', async (_request, reply) =>
      reply
        .header('content-length', 2 * MB)
        .type('text/plain')
        .send(Readable.from([Buffer.alloc(MB, 'a'), Buffer.alloc(MB, 'b')])),
    )
    app.post('/t/echo', async (request) => ({ bytes: JSON.stringify(request.body).length }))
  })
  return { app, release: () => release() }
}

t.test('a response that does not fit gets 503 + Retry-After naming memory', async (t) => {
  const { app, release } = await appWithHeldBytes(t)
  t.equal(app.memoryPlan.inFlightBytes, 16 * MB)
  t.equal((await app.inject('/t/big')).statusCode, 200, 'alone, it goes')
  const holding = app.inject('/t/hold')
  await waitFor(() => app.memoryBudget.status().usedBytes === HOLD, 'the bytes held')
  assertUnavailable(t, await app.inject('/t/big'), {
    dependency: 'memory',
    retryAfter: '2',
    message: /a response of \d+ bytes does not fit/,
  })
  const body = JSON.stringify({ text: 'y'.repeat(1_000_000) })
  assertUnavailable(
    t,
    await app.inject({
      method: 'POST',
      url: '/t/echo',
      payload: body,
      headers: { 'content-type': 'application/json' },
    }),
    { dependency: 'memory', retryAfter: '2', message: /a request body of \d+ bytes/ },
  )
  assertUnavailable(t, await app.inject('/t/stream'), {
    dependency: 'memory',
    retryAfter: '2',
    message: /a response of 2097152 bytes does not fit/,
  })
  t.equal((await app.inject('/healthz')).statusCode, 200, 'the probes are never refused')
  t.equal((await app.inject('/t/echo?x=1')).statusCode, 404, 'small answers still go')
  t.equal((await app.inject('/t/small')).statusCode, 200, 'a response under 16 KB takes no lease')
  release()
  t.equal((await holding).statusCode, 200)
  t.equal((await app.inject('/t/big')).statusCode, 200, 'fits again once the bytes are back')
  const streamed = await app.inject('/t/stream')
  t.equal(streamed.statusCode, 200, 'a stream that fits by its content-length goes')
  t.equal(streamed.rawPayload.length, 2 * MB)
  t.equal(app.memoryBudget.status().usedBytes, 0, 'every lease released')
  t.ok(app.memoryBudget.status().refused >= 2)
})

t.test('responses from 16 KB up are counted, smaller ones are not', async (t) => {
  const { app } = await appWithHeldBytes(t)
  t.equal((await app.inject('/t/small')).statusCode, 200)
  t.equal(app.memoryBudget.status().peakBytes, 0, 'under 16 KB: no lease')
  t.equal((await app.inject('/t/just-over')).statusCode, 200)
  t.ok(app.memoryBudget.status().peakBytes >= UNLEASED_RESPONSE_BYTES, '16 KB and over: leased')
  t.equal(app.memoryBudget.status().usedBytes, 0, 'and released')
})

t.test('a load that does not fit is refused before it runs', async (t) => {
  const { app, release } = await appWithHeldBytes(t)
  const holding = app.inject('/t/hold')
  await waitFor(() => app.memoryBudget.status().usedBytes === HOLD, 'the bytes held')
  const second = await app.inject('/t/hold')
  assertUnavailable(t, second, {
    dependency: 'memory',
    retryAfter: '2',
    message: /a load of 16252928 bytes does not fit/,
  })
  release()
  t.equal((await holding).statusCode, 200)
  t.equal(app.memoryBudget.status().usedBytes, 0)
})
