import t, { type Test } from 'tap'
import type { App } from '../src/app.js'
import { buildWorkerTestApp, defineTestTask, gate } from './helpers/workers.js'

const MISSING = '00000000-0000-4000-8000-000000000000'

async function createNote(t: Test, app: App, title: string, body: string) {
  const res = await app.inject({ method: 'POST', url: '/api/notes', payload: { title, body } })
  t.equal(res.statusCode, 201)
  return res.json() as { id: string }
}

t.test('GET /api/notes/:id/html renders the note on the pool as sanitized HTML', async (t) => {
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
  t.match(res.headers['content-security-policy'], "default-src 'none'")
  t.equal(
    res.body,
    '<article>\n<h1>Tom &amp; &lt;Jerry&gt;</h1>\n<h1>Hello</h1>\n<p><em>world</em>  <a rel="nofollow noopener noreferrer">x</a> <img src="x" /></p>\n</article>\n',
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
  t.match(bad.json(), { issues: [{ field: 'params/id', rule: 'format' }] })
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
