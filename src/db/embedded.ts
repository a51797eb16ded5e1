import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

/**
 * The development default when DATABASE_URL is unset: PGlite (Postgres compiled to WebAssembly)
 * on disk, served over the Postgres wire protocol on 127.0.0.1, so the app uses the same pg.Pool
 * and SQL as with a real server. Imported lazily (db plugin) and never in production.
 */

// PGlite's defaults size Postgres for a desktop (128 MB of shared buffers); these keep it small.
const SMALL_BUFFERS = [
  'shared_buffers=16MB',
  'wal_buffers=1MB',
  'temp_buffers=2MB',
  'work_mem=2MB',
  'maintenance_work_mem=8MB',
].flatMap((setting) => ['-c', setting])

export interface EmbeddedPostgres {
  /** postgres:// URL of the socket server (127.0.0.1, a free port). */
  url: string
  dataDir: string
  stop(): Promise<void>
}

/** Opens (or creates) the database under dataDir and serves it on a free local port. */
export async function startEmbedded(options: {
  dataDir: string
  /** Connections the socket server accepts: the pool's one plus the migration client. */
  maxConnections?: number
}): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir)
  await mkdir(dataDir, { recursive: true })
  const db = await PGlite.create({
    dataDir,
    startParams: [...PGlite.defaultStartParams, ...SMALL_BUFFERS],
  })
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: 0,
    maxConnections: options.maxConnections ?? 2,
  })
  try {
    await server.start()
  } catch (error) {
    await db.close()
    throw error
  }
  const port = server.getServerConn().split(':').at(-1)
  let stopped: Promise<void> | undefined
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dataDir,
    stop: () => {
      stopped ??= server.stop().then(() => db.close())
      return stopped
    },
  }
}
