import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import pg from 'pg'

/** The bench's own database: created for the run and dropped after it. */

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
