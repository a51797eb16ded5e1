/**
 * The notes example's benchmark scenarios (registered in bench/scenarios.ts): reads from each
 * cache tier, writes, renders on the worker pool, and overload. The database is seeded once per
 * run with realistic notes through the real API.
 */
import {
  answers,
  isMissingRoute,
  type Prepared,
  type RequestKind,
  type Scenario,
  type ScenarioContext,
  type Variant,
  xCache,
} from '../../bench/scenario.js'

/** The fields POST /api/notes takes. */
export interface NoteInput {
  title: string
  body: string
}

const WORDS = (
  'cache pool worker memory limit request latency deploy render postgres redis queue shed ' +
  'heap thread index cursor page note draft review release budget metric trace span retry ' +
  'timeout signal drain graceful health ready status token proxy edge header body title ' +
  'markdown render sanitize escape link list table code block quote the a of to and in for ' +
  'with on is it that this by as be from at or we can will should must not only when then'
).split(' ')

function words(next: () => number, count: number): string {
  const out: string[] = []
  for (let i = 0; i < count; i++) out.push(WORDS[Math.floor(next() * WORDS.length)] as string)
  return out.join(' ')
}

const sentence = (next: () => number) => {
  const text = words(next, 6 + Math.floor(next() * 14))
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`
}

const paragraph = (next: () => number) =>
  Array.from({ length: 2 + Math.floor(next() * 4) }, () => sentence(next)).join(' ')

/**
 * A realistic note: a short title and a markdown body of a few hundred bytes to a few KB with
 * headings, paragraphs, lists, links, emphasis and the odd code block or raw HTML to escape.
 * Deterministic per index.
 */
export function makeNote(index: number): NoteInput {
  const next = prng(index + 1)
  const parts: string[] = [`# ${words(next, 3)}`, paragraph(next)]
  const sections = 1 + Math.floor(next() * 4)
  for (let s = 0; s < sections; s++) {
    parts.push(`## ${words(next, 2 + Math.floor(next() * 3))}`)
    const kind = Math.floor(next() * 5)
    if (kind === 0) {
      parts.push(
        Array.from({ length: 3 + Math.floor(next() * 4) }, () => `- ${words(next, 5)}`).join('\n'),
      )
    } else if (kind === 1) {
      parts.push(
        `\`\`\`ts\nconst ${words(next, 1)} = await app.${words(next, 1)}(${index})\n\`\`\``,
      )
    } else if (kind === 2) {
      parts.push(
        `See [the ${words(next, 2)}](https://example.com/${index}/${s}) and **${words(next, 2)}**.`,
      )
    } else if (kind === 3) {
      parts.push(`<img src=x onerror="alert(${index})"> ${paragraph(next)}`)
    } else {
      parts.push(`> ${sentence(next)}\n\n${paragraph(next)}`)
    }
    parts.push(paragraph(next))
  }
  const title = `${words(next, 2 + Math.floor(next() * 5))} #${index}`
  return { title: title.charAt(0).toUpperCase() + title.slice(1), body: parts.join('\n\n') }
}

/** Deterministic PRNG (mulberry32) so seeded notes are the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Ids of the notes seeded this run (filled by the first scenario's seed). */
const seeded: string[] = []
let seeding: Promise<void> | undefined

/** Creates the run's notes through POST /api/notes (validation, SQL, invalidation: the real path). */
function seed(ctx: ScenarioContext): Promise<void> {
  seeding ??= (async () => {
    const count = ctx.quick ? 300 : 2000
    const probe = await ctx.post('/api/notes', makeNote(0))
    if (isMissingRoute(probe)) return ctx.log('not seeded: POST /api/notes is not a route')
    if (probe.status !== 201) {
      return ctx.log(`not seeded: POST /api/notes answered ${probe.status}: ${probe.body}`)
    }
    ctx.log(`seeding ${count} notes through POST /api/notes`)
    const idOf = (body: string) => (JSON.parse(body) as { id: string }).id
    seeded.push(idOf(probe.body))
    let next = 1
    const lane = async () => {
      while (next < count) {
        const index = next++
        const response = await ctx.post('/api/notes', makeNote(index))
        if (response.status !== 201) {
          throw new Error(
            `seeding note ${index}: ${response.status} ${response.body.slice(0, 200)}`,
          )
        }
        seeded.push(idOf(response.body))
      }
    }
    await Promise.all(Array.from({ length: 8 }, lane))
  })()
  return seeding
}

const notePath = (id: string) => `/api/notes/${encodeURIComponent(id)}`
const hot = (ctx: ScenarioContext) => seeded.slice(0, ctx.quick ? 50 : 100)
const NO_NOTES = 'no notes were seeded'

/**
 * GETs over `paths`, after reading each of `warm` once (filling whichever cache is on) and the
 * first again: a repeat that does not answer from the expected tier is measured all the same and
 * said in `how` (the report's x-cache column shows which tier did answer).
 */
async function reads(
  ctx: ScenarioContext,
  paths: string[],
  warm: string[],
  expected: string,
  how: string,
): Promise<Prepared> {
  const first = paths[0]
  if (first === undefined) return { skip: NO_NOTES }
  const missing = await answers(ctx, first)
  if (missing) return { skip: missing }
  const mix: RequestKind[] = [{ weight: 1, method: 'GET', paths }]
  if (ctx.soak) return { mix }
  for (const path of warm) await ctx.get(path)
  const seen = xCache(await ctx.get(first)) ?? 'no x-cache header'
  if (seen === expected) return { mix, how }
  return {
    mix,
    how: `${how} (but after warming, a repeated read answered ${seen}, not ${expected})`,
  }
}

/** L1 off, Redis on: every read of a warm note is an L2 hit. */
const l1Off: Variant = {
  label: 'app (L1 off)',
  config: 'CACHE_L1=false, Redis L2',
  env: { CACHE_L1: 'false' },
}
/** No cache tier at all: reads are queries, renders run on the worker pool every time. */
const noCache: Variant = {
  label: 'app (no cache)',
  config: 'CACHE_L1=false, no REDIS_URL',
  env: { CACHE_L1: 'false' },
  redis: false,
}
const OVERLOAD_MB = 256

const scenarios: Scenario[] = [
  {
    name: 'read-l1',
    title: 'GET note, L1 hit',
    how: 'GET /api/notes/:id over notes read once before (L1 holds them)',
    seed,
    prepare: (ctx) => {
      const paths = hot(ctx).map(notePath)
      const how = `GET /api/notes/:id over ${paths.length} notes read once before (L1 holds them)`
      return reads(ctx, paths, paths, 'l1', how)
    },
    soakWeight: 4,
    sameResponses: true,
    coldRead: () => (seeded[0] === undefined ? undefined : notePath(seeded[0])),
    targets: { minThroughputRatio: 0.8, maxCpuRatio: 1.25 },
  },
  {
    name: 'create',
    title: 'POST note',
    how: 'POST /api/notes with a realistic note (0.3-4 KB of markdown), 500 different ones in turn',
    prepare: async (ctx) => {
      const probe = await ctx.post('/api/notes', { title: 'bench probe', body: 'probe' })
      if (isMissingRoute(probe)) return { skip: 'POST /api/notes is not a route of this build' }
      if (probe.status !== 201) return { skip: `POST /api/notes answered ${probe.status}` }
      const from = ctx.soak ? 2_000_000 : 1_000_000
      const bodies = Array.from({ length: 500 }, (_, i) => JSON.stringify(makeNote(from + i)))
      return { mix: [{ weight: 1, method: 'POST', paths: ['/api/notes'], bodies }] }
    },
    soakWeight: 1,
  },
  {
    name: 'read-l2',
    title: 'GET note, L2 hit (L1 off)',
    how: 'GET /api/notes/:id over notes read once before, on a server with CACHE_L1=false: every read is a Redis (L2) hit',
    variant: l1Off,
    prepare: async (ctx) => {
      if (!ctx.redis) return { skip: 'no Redis in this run' }
      const paths = hot(ctx).map(notePath)
      return reads(
        ctx,
        paths,
        paths,
        'l2',
        `GET /api/notes/:id over ${paths.length} notes read once before, on a server with CACHE_L1=false: every read is a Redis (L2) hit`,
      )
    },
  },
  {
    name: 'read-uncached',
    title: 'GET note, uncached (Postgres)',
    how: 'GET /api/notes/:id cycling over every seeded note with no cache tier: every read is a query',
    variant: noCache,
    prepare: (ctx) => {
      const paths = seeded.map(notePath)
      return reads(
        ctx,
        paths,
        paths.slice(0, 1),
        'miss',
        `GET /api/notes/:id cycling over all ${paths.length} seeded notes with no cache tier: every read is a query`,
      )
    },
    soakWeight: 2,
  },
  {
    name: 'html-uncached',
    title: 'GET note HTML, uncached (worker pool)',
    how: 'GET /api/notes/:id/html cycling over every seeded note with no cache tier: every request renders on the worker pool',
    variant: noCache,
    prepare: (ctx) => {
      const paths = seeded.map((id) => `${notePath(id)}/html`)
      return reads(
        ctx,
        paths,
        paths.slice(0, 1),
        'miss',
        `GET /api/notes/:id/html cycling over all ${paths.length} seeded notes with no cache tier: every request renders on the worker pool`,
      )
    },
    soakWeight: 3,
  },
  {
    name: 'overload',
    title: 'overload: GET note HTML',
    how: `GET /api/notes/:id/html, uncached (a worker-pool render each), with far more connections than the pool and its queue hold, at ${OVERLOAD_MB} MB`,
    variant: {
      ...noCache,
      label: 'app (overload)',
      config: `${OVERLOAD_MB} MB, CACHE_L1=false, no REDIS_URL`,
      memoryMb: OVERLOAD_MB,
    },
    connections: 400,
    prepare: async (ctx) => {
      const paths = seeded.map((id) => `${notePath(id)}/html`)
      const missing = paths[0] === undefined ? NO_NOTES : await answers(ctx, paths[0])
      return missing ? { skip: missing } : { mix: [{ weight: 1, method: 'GET', paths }] }
    },
    targets: { shedsLoad: true },
  },
]

export default scenarios
