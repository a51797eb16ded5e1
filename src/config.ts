import { type Env, EnvSchema } from './config.schemas.js'
import { parseDuration } from './duration.js'

export type { Env }

export interface Config extends Env {
  isProduction: boolean
  /** HOST, else 0.0.0.0 on Render or in production, else 127.0.0.1. */
  host: string
  /** Number of proxy hops to trust (Cloudflare + Render's proxy = 2 on Render), or false. */
  trustProxy: number | false
  /** CORS_ORIGINS as a list (empty: no cross-origin access). */
  corsOrigins: string[]
  /** RATE_LIMIT_WINDOW in milliseconds. */
  rateLimitWindowMs: number
  /** REQUEST_LOG_SAMPLE, or its default for NODE_ENV. */
  requestLogSample: number
}

/**
 * A request log line costs ~14 µs of CPU (a third of an L1 hit): in production one ordinary
 * request in a hundred is logged, every error and slow request always.
 */
export const PRODUCTION_REQUEST_LOG_SAMPLE = 0.01

/** An origin as browsers send it: scheme, host and optional port, nothing else. */
const ORIGIN = /^https?:\/\/[^/\s?#]+$/

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

interface PropertySchema {
  type?: 'string' | 'integer' | 'number' | 'boolean'
  enum?: readonly string[]
  default?: unknown
  minimum?: number
  maximum?: number
  minLength?: number
  pattern?: string
}

/**
 * One variable against its schema: the typed value, or the rule it broke (worded as Ajv does).
 * The schema uses only these keywords (config.schemas.ts); a second Ajv instance just for this
 * cost ~10% of boot CPU.
 */
function check(raw: string, rule: PropertySchema): { value: unknown } | { problem: string } {
  if (rule.enum) {
    return rule.enum.includes(raw) ? { value: raw } : { problem: `one of ${rule.enum.join(', ')}` }
  }
  if (rule.type === 'boolean') {
    if (raw === 'true' || raw === 'false') return { value: raw === 'true' }
    return { problem: 'must be boolean' }
  }
  if (rule.type === 'integer' || rule.type === 'number') {
    const value = Number(raw)
    if (raw.trim() === '' || !Number.isFinite(value)) return { problem: `must be ${rule.type}` }
    if (rule.type === 'integer' && !Number.isInteger(value)) return { problem: 'must be integer' }
    if (rule.minimum !== undefined && value < rule.minimum) {
      return { problem: `must be >= ${rule.minimum}` }
    }
    if (rule.maximum !== undefined && value > rule.maximum) {
      return { problem: `must be <= ${rule.maximum}` }
    }
    return { value }
  }
  if (rule.minLength !== undefined && [...raw].length < rule.minLength) {
    return { problem: `must NOT have fewer than ${rule.minLength} characters` }
  }
  if (rule.pattern !== undefined && !new RegExp(rule.pattern, 'u').test(raw)) {
    return { problem: `must match pattern "${rule.pattern}"` }
  }
  return { value: raw }
}

/** Validates the environment once. Throws ConfigError listing every problem. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable counts as unset, as in most shells' and platforms' dashboards.
  const values: Record<string, unknown> = {}
  const problems: string[] = []
  const rules = EnvSchema.properties as Record<string, PropertySchema>
  for (const [name, rule] of Object.entries(rules)) {
    const raw = source[name]
    if (raw === undefined || raw === '') {
      if (rule.default !== undefined) values[name] = rule.default
      continue
    }
    const checked = check(raw, rule)
    if ('value' in checked) values[name] = checked.value
    else problems.push(`${name}: got ${JSON.stringify(raw)}, expected ${checked.problem}`)
  }
  if (problems.length > 0) throw new ConfigError(problems)
  const env = values as Env
  const isProduction = env.NODE_ENV === 'production'
  if (isProduction && env.DATABASE_URL === undefined) {
    problems.push(
      'DATABASE_URL: got nothing, expected a postgres:// URL in production (the embedded database is for development only)',
    )
  }
  const corsOrigins = (env.CORS_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean)
  for (const origin of corsOrigins.filter((o) => !ORIGIN.test(o))) {
    problems.push(
      `CORS_ORIGINS: got ${JSON.stringify(origin)}, expected origins like https://app.example.com (scheme and host, no path), comma-separated`,
    )
  }
  const rateLimitWindowMs = parseDuration(env.RATE_LIMIT_WINDOW)
  if (rateLimitWindowMs === undefined) {
    problems.push(
      `RATE_LIMIT_WINDOW: got ${JSON.stringify(env.RATE_LIMIT_WINDOW)}, expected a duration such as "1 minute", "30 seconds" or milliseconds`,
    )
  }
  if (problems.length > 0 || rateLimitWindowMs === undefined) throw new ConfigError(problems)
  const onPlatform = env.RENDER !== undefined
  const hops = env.TRUST_PROXY_HOPS ?? (onPlatform ? 2 : 0)
  return {
    ...env,
    isProduction,
    host: env.HOST ?? (onPlatform || isProduction ? '0.0.0.0' : '127.0.0.1'),
    trustProxy: hops > 0 ? hops : false,
    corsOrigins,
    rateLimitWindowMs,
    requestLogSample: env.REQUEST_LOG_SAMPLE ?? (isProduction ? PRODUCTION_REQUEST_LOG_SAMPLE : 1),
  }
}
