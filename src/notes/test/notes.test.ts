import t from 'tap'
import { buildTestApp } from '../../../test/helpers/app.js'
import { admin, skipIfEmbedded, testDatabase } from '../../../test/helpers/database.js'
import { assertUnavailable } from '../../../test/helpers/http.js'
import type { App } from '../../app.js'

const json = { 'content-type': 'application/json' }
/** Rows in the notes table, read past the API and its cache. */
async function countNotes(app: App): Promise<number> {
  const rows = await admin(
    app.config.DATABASE_URL as string,
    'SELECT count(*)::int AS n FROM notes',
  )
  return rows[0]?.n as number
}

const MISSING = '00000000-0000-4000-8000-000000000000'

t.test('CRUD round trip', async (t) => {
  const app = await buildTestApp(t)
  const created = await app.inject({
    method: 'POST',
    url: '/api/notes',
    payload: { title: 'First', body: '# Hello\n\nworld' },
  })
  t.equal(created.statusCode, 201)
  const note = created.json()
  t.match(note, {
    id: /^[0-9a-f-]{36}$/,
    title: 'First',
    body: '# Hello\n\nworld',
    createdAt: String,
    updatedAt: String,
  })
  t.equal(note.createdAt, note.updatedAt)

  const read = await app.inject(`/api/notes/${note.id}`)
  t.equal(read.statusCode, 200)
  t.same(read.json(), note)

  const patched = await app.inject({
    method: 'PATCH',
    url: `/api/notes/${note.id}`,
    payload: { title: 'Renamed' },
  })
  t.equal(patched.statusCode, 200)
  t.match(patched.json(), { id: note.id, title: 'Renamed', body: note.body })
  t.ok(patched.json().updatedAt > note.updatedAt, 'updatedAt moves forward')
  t.equal(patched.json().createdAt, note.createdAt)

  const list = await app.inject('/api/notes')
  t.equal(list.statusCode, 200)
  t.same(list.json(), { items: [patched.json()], nextCursor: null })

  const removed = await app.inject({ method: 'DELETE', url: `/api/notes/${note.id}` })
  t.equal(removed.statusCode, 204)
  t.equal(removed.body, '')
  t.equal((await app.inject(`/api/notes/${note.id}`)).statusCode, 404)
  t.equal((await app.inject({ method: 'DELETE', url: `/api/notes/${note.id}` })).statusCode, 404)
  t.same((await app.inject('/api/notes')).json(), { items: [], nextCursor: null })
})

t.test('a body up to 64 KiB of UTF-8 is accepted, one byte more is not', async (t) => {
  const app = await buildTestApp(t)
  const full = 'é'.repeat(32 * 1024) // 2 bytes each: exactly 64 KiB
  const ok = await app.inject({
    method: 'POST',
    url: '/api/notes',
    payload: { title: 't', body: full },
  })
  t.equal(ok.statusCode, 201)
  t.equal(ok.json().body, full)
  const over = await app.inject({
    method: 'POST',
    url: '/api/notes',
    payload: { title: 't', body: `${full}x` },
  })
  t.equal(over.statusCode, 400)
  t.match(over.json().issues, [{ field: 'body/body', rule: 'maxBytes' }])
  const patchOver = await app.inject({
    method: 'PATCH',
    url: `/api/notes/${ok.json().id}`,
    payload: { body: `${full}x` },
  })
  t.equal(patchOver.statusCode, 400)
  t.equal((await app.inject(`/api/notes/${ok.json().id}`)).json().body, full, 'nothing written')
  t.equal(await countNotes(app), 1, 'the rejected note was not written')
})

t.test('pagination walks every note once, newest first, with no gaps', async (t) => {
  const app = await buildTestApp(t)
  const url = app.config.DATABASE_URL as string
  // 57 notes: 50 share one created_at (ties broken by id), 7 more are spread out.
  await admin(
    url,
    `INSERT INTO notes (title, created_at)
     SELECT 'tied ' || i, '2026-01-01T00:00:00.123456Z' FROM generate_series(1, 50) AS i`,
  )
  const ids = new Set<string>()
  for (let i = 0; i < 7; i++) {
    const res = await app.inject({ method: 'POST', url: '/api/notes', payload: { title: `n${i}` } })
    ids.add(res.json().id)
  }
  const expected = (
    await admin<{ id: string }>(url, 'SELECT id FROM notes ORDER BY created_at DESC, id DESC')
  ).map((r) => r.id)
  t.equal(expected.length, 57)

  const seen: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const query: string = cursor ? `?limit=10&cursor=${cursor}` : '?limit=10'
    const res = await app.inject(`/api/notes${query}`)
    t.equal(res.statusCode, 200)
    const body = res.json()
    t.ok(body.items.length <= 10)
    seen.push(...body.items.map((n: { id: string }) => n.id))
    cursor = body.nextCursor
    pages++
  } while (cursor && pages < 20)
  t.equal(pages, 6)
  t.same(seen, expected, 'every note exactly once, in order')
  t.same(seen.slice(0, 7), [...ids].reverse(), 'newest first')

  const capped = await app.inject('/api/notes?limit=101')
  t.equal(capped.statusCode, 400)
  t.match(capped.json().issues, [{ field: 'querystring/limit', rule: 'maximum' }])
  const defaulted = await app.inject('/api/notes')
  t.equal(defaulted.json().items.length, 20, 'default page size')
})

t.test("a page ends at the plan's page bytes; its cursor walks the rest", async (t) => {
  // 256 MB plan: pages of at most 1 MiB. 40 notes of ~60 KB: about 17 per page, not 100.
  const app = await buildTestApp(t, { MEMORY_LIMIT_MB: '256' })
  const url = app.config.DATABASE_URL as string
  t.equal(app.memoryPlan.pageBytes, 1024 * 1024)
  await admin(
    url,
    `INSERT INTO notes (title, body, created_at)
     SELECT 'big ' || i, repeat('x', 60000), now() - i * interval '1 second'
     FROM generate_series(1, 40) AS i`,
  )
  const expected = (
    await admin<{ id: string }>(url, 'SELECT id FROM notes ORDER BY created_at DESC, id DESC')
  ).map((r) => r.id)
  const seen: string[] = []
  const sizes: number[] = []
  let cursor: string | null = null
  do {
    const path: string = `/api/notes?limit=100${cursor ? `&cursor=${cursor}` : ''}`
    const res = await app.inject(path)
    t.equal(res.statusCode, 200)
    t.ok(res.body.length <= app.memoryPlan.pageBytes, `a page of ${res.body.length} bytes`)
    const body = res.json() as { items: Array<{ id: string }>; nextCursor: string | null }
    sizes.push(body.items.length)
    seen.push(...body.items.map((n) => n.id))
    cursor = body.nextCursor
  } while (cursor && sizes.length < 10)
  t.same(sizes, [17, 17, 6], 'pages stop at the byte bound, the last at the notes left')
  t.same(seen, expected, 'every note exactly once, in order')
})

t.test('bad input: 400 naming the field and the rule, nothing written', async (t) => {
  const app = await buildTestApp(t)
  type Case = [
    string,
    {
      method: 'POST' | 'PATCH' | 'GET' | 'DELETE'
      url: string
      payload?: object | string | undefined
      headers?: Record<string, string>
    },
    string,
    string,
  ]
  const cases: Case[] = [
    [
      'missing title',
      { method: 'POST', url: '/api/notes', payload: { body: 'x' } },
      'body/title',
      'required',
    ],
    [
      'empty title',
      { method: 'POST', url: '/api/notes', payload: { title: '' } },
      'body/title',
      'minLength',
    ],
    [
      'title too long',
      { method: 'POST', url: '/api/notes', payload: { title: 'x'.repeat(201) } },
      'body/title',
      'maxLength',
    ],
    [
      'title not a string',
      { method: 'POST', url: '/api/notes', payload: { title: { a: 1 } } },
      'body/title',
      'type',
    ],
    ['body not an object', { method: 'POST', url: '/api/notes', payload: [1, 2] }, 'body', 'type'],
    [
      'empty patch',
      { method: 'PATCH', url: `/api/notes/${MISSING}`, payload: {} },
      'body',
      'minProperties',
    ],
    ['non-UUID id', { method: 'GET', url: '/api/notes/123' }, 'params/id', 'pattern'],
    [
      'non-UUID id on patch',
      { method: 'PATCH', url: '/api/notes/nope', payload: { title: 'x' } },
      'params/id',
      'pattern',
    ],
    // Ajv's uuid format lets these through; Postgres refuses the first, the second is a second
    // cache key for the same note.
    ...(['GET', 'DELETE', 'PATCH'] as const).flatMap((method) =>
      [`urn:uuid:${MISSING}`, 'ABCDEF00-0000-4000-8000-00000000000A', `{${MISSING}}`].map(
        (id): Case => [
          `${method} with the id ${id}`,
          {
            method,
            url: `/api/notes/${encodeURIComponent(id)}`,
            payload: method === 'PATCH' ? { title: 'x' } : undefined,
          },
          'params/id',
          'pattern',
        ],
      ),
    ),
    [
      'urn id on html',
      { method: 'GET', url: `/api/notes/urn:uuid:${MISSING}/html` },
      'params/id',
      'pattern',
    ],
    [
      'NUL in the title',
      { method: 'POST', url: '/api/notes', payload: { title: 'a\u0000b' } },
      'body/title',
      'pattern',
    ],
    [
      'NUL in the body',
      { method: 'POST', url: '/api/notes', payload: { title: 't', body: 'x\u0000' } },
      'body/body',
      'pattern',
    ],
    [
      'NUL in a patch',
      { method: 'PATCH', url: `/api/notes/${MISSING}`, payload: { body: '\u0000' } },
      'body/body',
      'pattern',
    ],
    ...[
      '2026-13-01T00:00:00.000000Z',
      '0000-01-01T00:00:00.000000Z',
      '2026-02-30T00:00:00.000000Z',
      '2026-01-01T24:00:00.000000Z',
    ].map(
      (instant): Case => [
        `cursor at ${instant}`,
        {
          method: 'GET',
          url: `/api/notes?cursor=${Buffer.from(`${instant}|${MISSING}`).toString('base64url')}`,
        },
        'querystring/cursor',
        'format',
      ],
    ),
    [
      'a body nested deeper than the bound',
      {
        method: 'POST',
        url: '/api/notes',
        payload: `{"title":"t","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
        headers: json,
      },
      'body',
      'maxDepth',
    ],
    ['limit zero', { method: 'GET', url: '/api/notes?limit=0' }, 'querystring/limit', 'minimum'],
    [
      'limit not a number',
      { method: 'GET', url: '/api/notes?limit=ten' },
      'querystring/limit',
      'type',
    ],
    [
      'cursor with bad characters',
      { method: 'GET', url: '/api/notes?cursor=a%2Fb' },
      'querystring/cursor',
      'pattern',
    ],
    [
      'cursor that does not decode',
      { method: 'GET', url: '/api/notes?cursor=bm9wZQ' },
      'querystring/cursor',
      'format',
    ],
  ]
  for (const [name, request, field, rule] of cases) {
    const res = await app.inject(request)
    t.equal(res.statusCode, 400, `${name}: 400`)
    t.equal(res.json().error, 'Bad Request')
    t.match(res.json().issues, [{ field, rule }], `${name}: names ${field} and ${rule}`)
  }
  const malformed = await app.inject({
    method: 'POST',
    url: '/api/notes',
    headers: json,
    payload: '{"title":',
  })
  t.equal(malformed.statusCode, 400)
  t.equal(malformed.json().error, 'Bad Request')
  const big = await app.inject({
    method: 'POST',
    url: '/api/notes',
    headers: json,
    payload: JSON.stringify({ title: 't', body: 'x'.repeat(1024 * 1024) }),
  })
  t.equal(big.statusCode, 413)
  t.equal(await countNotes(app), 0, 'nothing written')
})

t.test('unknown ids are 404 on read, update and delete', async (t) => {
  const app = await buildTestApp(t)
  for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
    const res = await app.inject({
      method,
      url: `/api/notes/${MISSING}`,
      ...(method === 'PATCH' ? { payload: { title: 'x' } } : {}),
    })
    t.equal(res.statusCode, 404, method)
    t.same(res.json(), {
      statusCode: 404,
      error: 'Not Found',
      message: `note ${MISSING} not found`,
    })
  }
})

t.test('unknown fields are dropped, not stored', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({
    method: 'POST',
    url: '/api/notes',
    payload: { title: 't', id: MISSING, createdAt: '2000-01-01T00:00:00Z', evil: true },
  })
  t.equal(res.statusCode, 201)
  t.not(res.json().id, MISSING)
  t.notSame(res.json().createdAt, '2000-01-01T00:00:00.000Z')
  t.notOk('evil' in res.json())
})

t.test('Postgres unreachable: 503 naming it, and /readyz says so', async (t) => {
  const database = await testDatabase(t)
  if (skipIfEmbedded(t, database)) return
  const { url } = database
  const app = await buildTestApp(t, { DATABASE_URL: url })
  t.equal((await app.inject('/readyz')).json().dependencies.postgres.status, 'up')
  // Every connection of this app's pool ends; the database itself is gone too.
  await admin(
    url.replace(/\/[^/]+$/, '/test'),
    `DROP DATABASE ${new URL(url).pathname.slice(1)} WITH (FORCE)`,
  )
  assertUnavailable(t, await app.inject('/api/notes'), {
    dependency: 'postgres',
    retryAfter: '5',
    message: 'database unavailable',
  })
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 503)
  t.match(ready.json().dependencies.postgres, { status: 'down', required: true })
})
