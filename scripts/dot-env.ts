import { readFileSync } from 'node:fs'
import { parseEnv } from 'node:util'

export type DotEnvResult =
  | { loaded: string[] }
  | { skipped: 'not development' | 'absent' | 'sets NODE_ENV=production' }

/**
 * Development convenience: fills the variables the environment does not set from `.env`, parsed
 * by Node's own parser (the format of `node --env-file`); the environment always wins, as with
 * `--env-file-if-exists`. Only in development (NODE_ENV unset or `development`): in production
 * the file is not even read, nor in tests (a developer's `.env` must not change what they see),
 * and a file that itself says NODE_ENV=production is ignored whole (production takes its
 * settings from the platform's environment, never from a file).
 */
export function loadDotEnv(path = '.env', env: NodeJS.ProcessEnv = process.env): DotEnvResult {
  if (env.NODE_ENV !== undefined && env.NODE_ENV !== 'development') {
    return { skipped: 'not development' }
  }
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { skipped: 'absent' }
    throw error
  }
  const values = parseEnv(text)
  if (env.NODE_ENV === undefined && values.NODE_ENV === 'production') {
    return { skipped: 'sets NODE_ENV=production' }
  }
  const loaded = Object.keys(values).filter((name) => env[name] === undefined)
  for (const name of loaded) env[name] = values[name]
  return { loaded }
}

/** One line for the terminal about what loadDotEnv did, or nothing when there was no file. */
export function describeDotEnv(result: DotEnvResult, path = '.env'): string | undefined {
  if ('loaded' in result) return `read ${path} (${result.loaded.length} variables not already set)`
  if (result.skipped === 'sets NODE_ENV=production') {
    return `warning: ignoring ${path}: it sets NODE_ENV=production, which only the platform sets`
  }
  return undefined
}
