/**
 * Child process: creates a new PGlite data dir (initdb) and exits. initdb needs several hundred
 * MB; done here, that memory goes back to the system instead of staying in the server's RSS.
 */
import { PGlite } from '@electric-sql/pglite'

const dataDir = process.argv[2]
if (!dataDir) throw new Error('usage: embedded-init <dataDir>')
const db = await PGlite.create({ dataDir })
await db.close()
