import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import pg from 'pg'
import { isMissingRoute, mapLimit, send } from './http.js'
import { makeNote } from './notes.js'

/** The bench's own database, and the notes it is seeded with. */

export interface BenchDatabase {
  /** Environment the app gets for it (DATABASE_URL, or PGlite's data dir and NODE_ENV). */
  env: Record<string, string>
  describe: string
  drop(): Promise<void>
}

/** Creates a dedicated database next to `adminUrl`'s (same server), named freetier_bench_*. */
export async function createDatabase(adminUrl: string): Promise<BenchDatabase> {
  const name = `freetier_bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    env: { NODE_ENV: 'production', DATABASE_URL: url.toString() },
    describe: `Postgres ${url.host}, database ${name} (created for this run)`,
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 })
      await client.connect()
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } finally {
        await client.end()
      }
    },
  }
}

/**
 * The app's embedded default: no DATABASE_URL, NODE_ENV=development (production refuses to run
 * without a DATABASE_URL), PGlite in a fresh data directory under the output directory.
 */
export function embeddedDatabase(outDir: string): BenchDatabase {
  const dir = join(outDir, `pglite-${Date.now().toString(36)}`)
  return {
    env: { NODE_ENV: 'development', PGLITE_DATA_DIR: dir },
    describe: `embedded PGlite in ${dir} (NODE_ENV=development)`,
    drop: () => rm(dir, { recursive: true, force: true }),
  }
}

export type Seeded = { ids: string[] } | { skipped: string }

/** Creates `count` notes through POST /api/notes (the real API: validation, SQL, invalidation). */
export async function seedNotes(origin: string, count: number): Promise<Seeded> {
  const probe = await send(`${origin}/api/notes`, { method: 'POST', json: makeNote(0) })
  if (isMissingRoute(probe)) return { skipped: 'POST /api/notes is not on this build yet' }
  if (probe.status !== 201 && probe.status !== 200) {
    return { skipped: `POST /api/notes answered ${probe.status}: ${probe.body.slice(0, 200)}` }
  }
  const idOf = (body: string) => String((JSON.parse(body) as { id: string | number }).id)
  const ids = [idOf(probe.body)]
  const rest = await mapLimit(
    Array.from({ length: count - 1 }, (_, i) => i + 1),
    8,
    async (index) => {
      const response = await send(`${origin}/api/notes`, { method: 'POST', json: makeNote(index) })
      if (response.status >= 300) {
        throw new Error(`seeding note ${index}: ${response.status} ${response.body.slice(0, 200)}`)
      }
      return idOf(response.body)
    },
  )
  return { ids: [...ids, ...rest] }
}
