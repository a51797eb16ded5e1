import { fork } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdir, open, readFile, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
import { appModule } from '../modules.js'

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

/** Who holds a data dir: PGlite has no postmaster.pid, and two processes on one dir corrupt it. */
const LOCK_FILE = 'freetier.lock'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes the data dir for this process; a lock left by a process that is gone is taken over. */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, LOCK_FILE)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx')
      await file.writeFile(String(process.pid))
      await file.close()
      return () => rm(path, { force: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10)
      if (holder > 0 && holder !== process.pid && alive(holder)) {
        throw new Error(
          `the embedded Postgres data dir ${dataDir} is in use by process ${holder}; stop it, or set PGLITE_DATA_DIR to another directory (if no such process is yours, delete ${path})`,
        )
      }
      await rm(path, { force: true })
    }
  }
  throw new Error(`cannot lock ${path}`)
}

/**
 * A new data dir is created (initdb) in a short-lived child process: initdb needs several
 * hundred MB that would otherwise stay in the server's RSS (and trip load shedding).
 */
async function initDataDir(dataDir: string) {
  // Compiled, bundled or under tsx in development (fork keeps tsx's loader).
  const child = fork(new URL(appModule('db/embedded-init')), [dataDir], {
    stdio: 'inherit',
  })
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null]
  if (code !== 0) {
    throw new Error(`creating the embedded database in ${dataDir} failed (${signal ?? code})`)
  }
}

/** Opens (or creates) the database under dataDir and serves it on a free local port. */
export async function startEmbedded(options: {
  dataDir: string
  /** Connections the socket server accepts: the pool's one plus the migration client. */
  maxConnections?: number
}): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir)
  await mkdir(dataDir, { recursive: true })
  const unlock = await lockDataDir(dataDir)
  let db: PGlite | undefined
  try {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await initDataDir(dataDir)
    db = await PGlite.create({
      dataDir,
      startParams: [...PGlite.defaultStartParams, ...SMALL_BUFFERS],
    })
    const server = new PGLiteSocketServer({
      db,
      host: '127.0.0.1',
      port: 0,
      maxConnections: options.maxConnections ?? 2,
    })
    await server.start()
    const port = server.getServerConn().split(':').at(-1)
    const opened = db
    let stopped: Promise<void> | undefined
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      dataDir,
      stop: () => {
        stopped ??= server
          .stop()
          .then(() => opened.close())
          .finally(unlock)
        return stopped
      },
    }
  } catch (error) {
    await db?.close().catch(() => {})
    await unlock()
    throw error
  }
}
