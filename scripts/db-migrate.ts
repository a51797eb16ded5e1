/**
 * `npm run db:migrate`: applies pending migrations to DATABASE_URL and exits (the app also does
 * this at boot, under the same advisory lock). The embedded database migrates when the app starts.
 */
import { loadConfigOrExit } from '../src/config-or-exit.js'
import { MIGRATE_APPLICATION_NAME, poolSettings } from '../src/db/connection.js'
import { migrate } from '../src/db/migrate.js'

const config = loadConfigOrExit()
if (config.DATABASE_URL === undefined) {
  process.stderr.write(
    'freetier: db:migrate needs DATABASE_URL (the embedded database migrates when the app starts)\n',
  )
  process.exit(1)
}
const settings = poolSettings(config, config.DATABASE_URL, {
  applicationName: MIGRATE_APPLICATION_NAME,
})
try {
  const result = await migrate(settings.config, {
    onApplied: (file) => process.stdout.write(`applied ${file}\n`),
  })
  process.stdout.write(
    `freetier: database at schema version ${result.version} (${result.applied.length} applied)\n`,
  )
} catch (error) {
  process.stderr.write(`freetier: ${(error as Error).message}\n`)
  process.exit(1)
}
