import t, { type Test } from 'tap'
import { testDatabase } from '../../../test/helpers/database.js' // redis-only
import { freePort } from '../../../test/helpers/process.js' // redis-only
import { randomPrefix } from '../../../test/helpers/redis.js' // redis-only
import { redis } from '../../../test/helpers/services.js' // redis-only
import { buildWorkerTestApp, defineTestTask, gate, waitFor } from '../../../test/helpers/workers.js'
import type { App } from '../../app.js'

const MISSING = '00000000-0000-4000-8000-000000000000'
const redisService = await redis() // redis-only

async function createNote(t: Test, app: App, title: string, body: string) {
  const res = await app.inject({ method: 'POST', url: '/api/notes', payload: { title, body } })
  t.equal(res.statusCode, 201)
  return res.json() as { id: string }
}

t.test('GET /api/notes/:id/html renders the note on the pool as safe HTML', async (t) => {
  const app = await buildWorkerTestApp(t)
  const note = await createNote(
    t,
    app,
    'Tom & <Jerry>',
    '# Hello\n\n*world* <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>',
  )
  const res = await app.inject(`/api/notes/${note.id}/html`)
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'text/html; charset=utf-8')
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  t.equal(
    res.headers['content-security-policy'],
    "default-src 'none'; img-src http: https:; base-uri 'none'",
    'the page keeps its own policy over the API default',
  )
  t.equal(
    res.body,
    '<article>\n<h1>Tom &amp; &lt;Jerry&gt;</h1>\n<h1>Hello</h1>\n<p><em>world</em> &lt;script&gt;alert(1)&lt;/script&gt; x &lt;img src=x onerror=alert(1)&gt;</p>\n</article>\n',
  )
  t.equal(app.workers.status().completed, 1, 'rendered on the worker pool')
})

t.test('the HTML follows the note when it changes', async (t) => {
  const app = await buildWorkerTestApp(t)
  const note = await createNote(t, app, 'T', 'before')
  t.match((await app.inject(`/api/notes/${note.id}/html`)).body, '<p>before</p>')
  const patched = await app.inject({
    method: 'PATCH',
    url: `/api/notes/${note.id}`,
    payload: { body: '**after**' },
  })
  t.equal(patched.statusCode, 200)
  t.match((await app.inject(`/api/notes/${note.id}/html`)).body, '<p><strong>after</strong></p>')
  t.equal((await app.inject({ method: 'DELETE', url: `/api/notes/${note.id}` })).statusCode, 204)
  t.equal((await app.inject(`/api/notes/${note.id}/html`)).statusCode, 404)
})

t.test('unknown id is 404, a malformed id 400, both JSON', async (t) => {
  const app = await buildWorkerTestApp(t)
  const missing = await app.inject(`/api/notes/${MISSING}/html`)
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { statusCode: 404, message: `note ${MISSING} not found` })
  const bad = await app.inject('/api/notes/not-a-uuid/html')
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { issues: [{ field: 'params/id', rule: 'pattern' }] })
  t.equal(app.workers.status().completed, 0, 'no task ran for bad requests')
})

t.test('a full pool answers the HTML route with 503 naming the workers', async (t) => {
  const app = await buildWorkerTestApp(t, { WORKER_THREADS: '1', WORKER_MAX_QUEUE: '0' })
  const note = await createNote(t, app, 'T', 'x')
  defineTestTask(app)
  const held = gate()
  const running = app.workers.run('test', { kind: 'gate', gate: held.buffer })
  const res = await app.inject(`/api/notes/${note.id}/html`)
  t.equal(res.statusCode, 503)
  t.ok(res.headers['retry-after'])
  t.match(res.json(), { dependency: 'workers' })
  held.open()
  await running
  t.equal((await app.inject(`/api/notes/${note.id}/html`)).statusCode, 200)
})

t.test('the HTML is cached in views: rendered once, x-cache miss then l1', async (t) => {
  const app = await buildWorkerTestApp(t)
  const note = await createNote(t, app, 'T', '*cached*')
  const first = await app.inject(`/api/notes/${note.id}/html`)
  t.equal(first.headers['x-cache'], 'miss')
  const second = await app.inject(`/api/notes/${note.id}/html`)
  t.equal(second.headers['x-cache'], 'l1')
  t.equal(second.body, first.body)
  t.equal(second.headers['content-type'], 'text/html; charset=utf-8')
  t.equal(app.workers.status().completed, 1, 'rendered once')

  // A write invalidates the note's views tag: the next read renders again.
  await app.inject({ method: 'PATCH', url: `/api/notes/${note.id}`, payload: { title: 'T2' } })
  const after = await app.inject(`/api/notes/${note.id}/html`)
  t.equal(after.headers['x-cache'], 'miss')
  t.match(after.body, '<h1>T2</h1>')
  t.equal(app.workers.status().completed, 2)
  // An unknown id is not cached: 404 each time, no render.
  const missing = await app.inject(`/api/notes/${MISSING}/html`)
  t.equal(missing.statusCode, 404)
  t.notOk(missing.headers['x-cache'])
})

// redis-only: start
t.test(
  'with Redis, two instances share the rendered HTML and its invalidation',
  {
    skip: redisService.skip ?? false,
  },
  async (t) => {
    const { url } = await testDatabase(t)
    const env = {
      DATABASE_URL: url,
      REDIS_URL: redisService.url as string,
      REDIS_KEY_PREFIX: randomPrefix(),
    }
    const a = await buildWorkerTestApp(t, env)
    const b = await buildWorkerTestApp(t, env)
    const note = await createNote(t, a, 'Shared', 'v1')
    t.equal((await a.inject(`/api/notes/${note.id}/html`)).headers['x-cache'], 'miss')
    const fromB = await b.inject(`/api/notes/${note.id}/html`)
    t.equal(fromB.headers['x-cache'], 'l2', 'B reads what A rendered')
    t.match(fromB.body, '<p>v1</p>')
    t.equal(b.workers.status().completed, 0, 'B rendered nothing')
    t.equal((await b.inject(`/api/notes/${note.id}/html`)).headers['x-cache'], 'l1')

    await a.inject({ method: 'PATCH', url: `/api/notes/${note.id}`, payload: { body: 'v2' } })
    await waitFor(
      async () => (await b.inject(`/api/notes/${note.id}/html`)).body.includes('<p>v2</p>'),
      'B to see the change',
    )
  },
)

t.test('with Redis down the HTML is still served, rendered on the pool', async (t) => {
  const app = await buildWorkerTestApp(t, {
    REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    REDIS_KEY_PREFIX: randomPrefix(),
  })
  const note = await createNote(t, app, 'T', 'still *here*')
  const res = await app.inject(`/api/notes/${note.id}/html`)
  t.equal(res.statusCode, 200)
  t.match(res.body, '<p>still <em>here</em></p>')
  t.match(res.headers['x-cache'], /^(miss|l1)$/)
})
// redis-only: end
