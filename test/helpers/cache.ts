import type { Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { testConfig, testPlan } from './config.js'
import { fileDatabase } from './database.js'
import { waitFor } from './wait.js'

/**
 * An app with `GET /item/:ns/:id` reading through the cache; counts loads per key. Its loads touch
 * no table, so it runs on the file's one database.
 */
export async function cachedApp(t: Test, env: Record<string, string> = {}, cacheBytes?: number) {
  const loads = new Map<string, number>()
  const database = env.DATABASE_URL ?? (await fileDatabase()).url
  const config = testConfig({ ...env, DATABASE_URL: database })
  const plan = { ...testPlan(config), ...(cacheBytes ? { cacheBytes } : {}) }
  const app = await buildApp({ config, plan, logger: false })
  t.teardown(() => app.close())
  app.get<{ Params: { ns: 'views' | 'queries'; id: string }; Querystring: { kb?: string } }>(
    '/item/:ns/:id',
    async (request, reply) => {
      const { ns, id } = request.params
      const cached = await app.cache[ns].getOrLoad(
        id,
        async () => {
          const n = (loads.get(`${ns}/${id}`) ?? 0) + 1
          loads.set(`${ns}/${id}`, n)
          return JSON.stringify({ id, n, pad: 'x'.repeat(Number(request.query.kb ?? 0) * 1024) })
        },
        { tags: [`group:${id.split('-')[0]}`] },
      )
      return reply.sendCached(cached)
    },
  )
  await app.ready()
  const get = async (ns: string, id: string, kb = 0) => {
    const res = await app.inject(`/item/${ns}/${id}${kb ? `?kb=${kb}` : ''}`)
    return { source: res.headers['x-cache'], body: res.json() as { id: string; n: number } }
  }
  const stats = async () => (await app.inject('/status')).json().cache
  // Start from the steady state: until the invalidation channel is subscribed, L1 entries are
  // only trusted for a few seconds, which a busy machine can outlast mid-test.
  if (env.REDIS_URL) {
    await waitFor(
      async () => (await stats()).invalidation === 'subscribed',
      'the invalidation channel',
    )
  }
  return { app, loads, get, stats }
}

export { eventually } from './wait.js'
