import type { ScenarioName } from './args.js'
import { type HttpResponse, isMissingRoute, send } from './http.js'
import type { RequestKind } from './load-spec.js'

/** What each scenario sends, and the check that it measures what its name says. */

export interface ScenarioDef {
  name: ScenarioName | 'baseline-healthz' | 'soak'
  title: string
  how: string
  mix: RequestKind[]
  /** Runs against the live server first; a string is the reason to skip. */
  check: (origin: string) => Promise<string | undefined>
}

const notePath = (id: string) => `/api/notes/${encodeURIComponent(id)}`
const xCache = (r: HttpResponse) => {
  const value = r.headers['x-cache']
  return Array.isArray(value) ? value[0] : value
}

/** The route answers 2xx (a missing route or an error is the reason to skip). */
async function answers(origin: string, path: string): Promise<string | undefined> {
  const response = await send(`${origin}${path}`)
  if (isMissingRoute(response))
    return `${path.replace(/\/[^/]+(\/html)?$/, '/:id$1')} is not on this build yet`
  if (response.status >= 300)
    return `GET ${path} answered ${response.status}: ${response.body.slice(0, 160)}`
  return undefined
}

/** Reads each path once (filling whichever cache is on), then checks a repeat's x-cache. */
async function warmAndExpect(
  origin: string,
  paths: string[],
  expected: string[],
): Promise<string | undefined> {
  const first = paths[0]
  if (first === undefined) return 'no notes were seeded'
  const missing = await answers(origin, first)
  if (missing) return missing
  for (const path of paths) await send(`${origin}${path}`)
  const repeat = await send(`${origin}${first}`)
  const seen = xCache(repeat)
  if (seen === undefined && expected.includes('none')) return undefined
  if (seen === undefined)
    return 'responses carry no x-cache header: the cache is not on this build yet'
  if (!expected.includes(seen))
    return `a repeated read answered x-cache: ${seen}, expected ${expected.join(' or ')}`
  return undefined
}

export function healthz(name: 'baseline-healthz' | 'healthz'): ScenarioDef {
  return {
    name,
    title: '/healthz',
    how: 'GET /healthz: the smallest route; the baseline serves the same body',
    mix: [{ weight: 1, method: 'GET', paths: ['/healthz'] }],
    check: (origin) => answers(origin, '/healthz'),
  }
}

export function readHot(ids: string[], tier: 'l1' | 'l2'): ScenarioDef {
  const paths = ids.map(notePath)
  return {
    name: tier === 'l1' ? 'read-l1' : 'read-l2',
    title: tier === 'l1' ? 'GET note, L1 hit' : 'GET note, L2 hit (L1 off)',
    how:
      tier === 'l1'
        ? `GET /api/notes/:id over ${ids.length} notes read once before (L1 holds them)`
        : `GET /api/notes/:id over ${ids.length} notes, server restarted with CACHE_L1=false so every read is a Redis (L2) hit`,
    mix: [{ weight: 1, method: 'GET', paths }],
    check: (origin) => warmAndExpect(origin, paths, [tier]),
  }
}

export function readUncached(ids: string[]): ScenarioDef {
  const paths = ids.map(notePath)
  return {
    name: 'read-uncached',
    title: 'GET note, uncached (Postgres)',
    how: `GET /api/notes/:id cycling over all ${ids.length} seeded notes on a server with CACHE_L1=false and no REDIS_URL, so no tier can answer: every read is a query`,
    mix: [{ weight: 1, method: 'GET', paths }],
    check: (origin) => warmAndExpect(origin, paths.slice(0, 1), ['miss', 'none']),
  }
}

export function create(noteFrom: number): ScenarioDef {
  return {
    name: 'create',
    title: 'POST note',
    how: 'POST /api/notes with a fresh realistic note (0.3-4 KB of markdown) each time',
    mix: [{ weight: 1, method: 'POST', paths: ['/api/notes'], noteFrom }],
    check: async (origin) => {
      const response = await send(`${origin}/api/notes`, {
        method: 'POST',
        json: { title: 'bench probe', body: 'probe' },
      })
      if (isMissingRoute(response)) return 'POST /api/notes is not on this build yet'
      return response.status < 300 ? undefined : `POST /api/notes answered ${response.status}`
    },
  }
}

export function htmlUncached(ids: string[], name: 'html-uncached' | 'overload'): ScenarioDef {
  const paths = ids.map((id) => `${notePath(id)}/html`)
  const check = (origin: string) => warmAndExpect(origin, paths.slice(0, 1), ['miss', 'none'])
  if (name === 'overload') {
    return {
      name,
      title: 'overload: GET note HTML',
      how: 'GET /api/notes/:id/html (uncached: every request a worker-pool render) with far more connections than the worker pool and its queue hold, at a small memory limit',
      mix: [{ weight: 1, method: 'GET', paths }],
      check,
    }
  }
  return {
    name,
    title: 'GET note HTML, uncached (worker pool)',
    how: `GET /api/notes/:id/html cycling over all ${ids.length} notes on a server with CACHE_L1=false and no REDIS_URL: every request renders on the worker pool`,
    mix: [{ weight: 1, method: 'GET', paths }],
    check,
  }
}

/** Soak: hot reads, cold reads, writes and renders together. */
export function soakMix(ids: string[], noteFrom: number): RequestKind[] {
  const hot = ids.slice(0, 100).map(notePath)
  const all = ids.map(notePath)
  return [
    { weight: 4, method: 'GET', paths: hot },
    { weight: 2, method: 'GET', paths: all },
    { weight: 1, method: 'POST', paths: ['/api/notes'], noteFrom },
    { weight: 3, method: 'GET', paths: all.map((p) => `${p}/html`) },
  ]
}
