import { type Config, ConfigError, loadConfig } from './config.js'

/** For process entry points: a bad environment prints every problem and exits 1. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`freetier: ${error.message}\n`)
    process.exit(1)
  }
}
