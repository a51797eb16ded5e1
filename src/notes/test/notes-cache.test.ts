import t, { type Test } from 'tap'
import { buildTestApp } from '../../../test/helpers/app.js'
import { eventually } from '../../../test/helpers/cache.js' // redis-only
import { testDatabase } from '../../../test/helpers/database.js' // redis-only
import { randomPrefix } from '../../../test/helpers/redis.js' // redis-only
import { redis as redisService } from '../../../test/helpers/services.js' // redis-only
import type { App } from '../../app.js'
import { createNote } from './helpers.js'

const service = await redisService() // redis-only

const read = async (app: App, url: string) => {
  const res = await app.inject(url)
  return { status: res.statusCode, cache: res.headers['x-cache'], body: res.json() }
}

const titles = (body: { items: Array<{ title: string }> }) => body.items.map((n) => n.title)

function readYourWrites(t: Test, env: () => Record<string, string>) {
  t.test('reads are cached; every write is visible to the next read', async (t) => {
    const app = await buildTestApp(t, env())
    const note = await createNote(app, 'one')
    t.match(await read(app, `/api/notes/${note.id}`), { status: 200, cache: 'miss' })
    t.match(await read(app, `/api/notes/${note.id}`), { status: 200, cache: 'l1' })
    t.match(await read(app, '/api/notes?limit=5'), { cache: 'miss' })
    t.match(await read(app, '/api/notes?limit=5'), { cache: 'l1' })

    const patched = await app.inject({
      method: 'PATCH',
      url: `/api/notes/${note.id}`,
      payload: { title: 'renamed' },
    })
    t.equal(patched.statusCode, 200)
    t.match(await read(app, `/api/notes/${note.id}`), {
      cache: 'miss',
      body: { title: 'renamed' },
    })
    const list = await read(app, '/api/notes?limit=5')
    t.equal(list.cache, 'miss', 'list pages dropped by the write')
    t.same(titles(list.body), ['renamed'])

    const two = await createNote(app, 'two')
    t.same(titles((await read(app, '/api/notes?limit=5')).body), ['two', 'renamed'])
    t.match(await read(app, `/api/notes/${note.id}`), { cache: 'l1' }, 'other notes stay cached')

    t.equal((await app.inject({ method: 'DELETE', url: `/api/notes/${two.id}` })).statusCode, 204)
    t.equal((await read(app, `/api/notes/${two.id}`)).status, 404)
    t.same(titles((await read(app, '/api/notes?limit=5')).body), ['renamed'])
  })

  t.test('an unknown id is not cached: creating it later is seen', async (t) => {
    const app = await buildTestApp(t, env())
    const missing = '00000000-0000-4000-8000-000000000000'
    t.equal((await read(app, `/api/notes/${missing}`)).status, 404)
    t.equal((await read(app, `/api/notes/${missing}`)).status, 404)
    const stats = (await app.inject('/status')).json().cache.namespaces.queries
    t.equal(stats.misses, 2, 'both 404s went to the database')
  })
}

t.test('one instance without Redis', async (t) => {
  readYourWrites(t, () => ({}))
})

// redis-only: start
t.test('with Redis', { skip: service.skip ?? false }, async (t) => {
  const url = service.url as string
  readYourWrites(t, () => ({ REDIS_URL: url, REDIS_KEY_PREFIX: randomPrefix() }))

  t.test('two instances: a write on A is read on B within a bounded time', async (t) => {
    const env = {
      REDIS_URL: url,
      REDIS_KEY_PREFIX: randomPrefix(),
      DATABASE_URL: (await testDatabase(t)).url,
    }
    const a = await buildTestApp(t, env)
    const b = await buildTestApp(t, env)
    const note = await createNote(a, 'v0')
    t.match(await read(a, `/api/notes/${note.id}`), { cache: 'miss' })
    t.match(await read(b, `/api/notes/${note.id}`), { cache: 'l2', body: { title: 'v0' } })
    t.match(await read(b, `/api/notes/${note.id}`), { cache: 'l1' })
    t.match(await read(b, '/api/notes'), { cache: 'miss' })
    for (let version = 1; version <= 5; version++) {
      await a.inject({
        method: 'PATCH',
        url: `/api/notes/${note.id}`,
        payload: { title: `v${version}` },
      })
      const written = Date.now()
      const first = (await read(b, `/api/notes/${note.id}`)).body.title
      const seen = await eventually(
        async () => (await read(b, `/api/notes/${note.id}`)).body.title === `v${version}`,
        2000,
      )
      t.ok(
        seen,
        `B reads v${version} ${Date.now() - written} ms after A's write answered (first read: ${first})`,
      )
      t.same(titles((await read(b, '/api/notes')).body), [`v${version}`], 'and in its list')
    }
  })
})
// redis-only: end
