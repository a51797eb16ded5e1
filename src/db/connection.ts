import type { ConnectionOptions } from 'node:tls'
import type { PoolConfig } from 'pg'
import type { Config } from '../config.js'

/** Every connection the app opens says who it is in pg_stat_activity. */
export const APPLICATION_NAME = 'freetier'
/** The migration connection (boot or `npm run db:migrate`) is told apart from the pool's. */
export const MIGRATE_APPLICATION_NAME = `${APPLICATION_NAME}-migrate`
export const IDLE_TIMEOUT_MS = 300_000
export const CONNECTION_TIMEOUT_MS = 5_000
/** The client-side query_timeout waits this much longer than the server's statement_timeout. */
export const QUERY_TIMEOUT_MARGIN_MS = 1_000

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full'
const SSL_MODES: readonly string[] = [
  'disable',
  'allow',
  'prefer',
  'require',
  'verify-ca',
  'verify-full',
]

/**
 * TLS as libpq reads `sslmode` (pg's own parser treats `require` like `verify-full`, which
 * refuses the self-signed certificates managed databases often use). pg cannot fall back from
 * TLS to plain text, so `allow` connects in plain text and `prefer` requires TLS without
 * verifying the certificate. Returns the URL without `sslmode` so pg does not override `ssl`.
 */
export function tlsFromUrl(url: string): {
  connectionString: string
  sslmode: SslMode | 'unset'
  ssl: false | ConnectionOptions
} {
  const parsed = new URL(url)
  const mode = parsed.searchParams.get('sslmode')
  if (mode === null) return { connectionString: url, sslmode: 'unset', ssl: false }
  if (!SSL_MODES.includes(mode)) {
    throw new Error(`DATABASE_URL: sslmode=${mode} is not one of ${SSL_MODES.join(', ')}`)
  }
  parsed.searchParams.delete('sslmode')
  const connectionString = parsed.toString()
  const sslmode = mode as SslMode
  switch (sslmode) {
    case 'disable':
    case 'allow':
      return { connectionString, sslmode, ssl: false }
    case 'prefer':
    case 'require':
      return { connectionString, sslmode, ssl: { rejectUnauthorized: false } }
    case 'verify-ca':
      return {
        connectionString,
        sslmode,
        ssl: { rejectUnauthorized: true, checkServerIdentity: () => undefined },
      }
    case 'verify-full':
      return { connectionString, sslmode, ssl: { rejectUnauthorized: true } }
  }
}

export interface PoolSettings {
  config: PoolConfig
  /** What /status shows: the settings without the URL (it may carry a password). */
  summary: {
    max: number
    idleTimeoutMillis: number
    connectionTimeoutMillis: number
    statementTimeoutMs: number
    queryTimeoutMs: number
    applicationName: string
    sslmode: SslMode | 'unset'
    embedded: boolean
  }
}

/** The one pg.Pool configuration, from config (and the embedded server's URL when there is one). */
export function poolSettings(
  config: Pick<Config, 'PG_POOL_MAX' | 'PG_STATEMENT_TIMEOUT_MS'>,
  url: string,
  options: { embedded?: boolean; applicationName?: string } = {},
): PoolSettings {
  const embedded = options.embedded ?? false
  const applicationName = options.applicationName ?? APPLICATION_NAME
  const { connectionString, ssl, sslmode } = tlsFromUrl(url)
  // PGlite runs one query at a time for the whole database: one connection, no interleaving.
  const max = embedded ? 1 : config.PG_POOL_MAX
  const statementTimeoutMs = config.PG_STATEMENT_TIMEOUT_MS
  const queryTimeoutMs = statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS
  return {
    config: {
      connectionString,
      ssl,
      max,
      idleTimeoutMillis: IDLE_TIMEOUT_MS,
      connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
      statement_timeout: statementTimeoutMs,
      query_timeout: queryTimeoutMs,
      application_name: applicationName,
      keepAlive: true,
    },
    summary: {
      max,
      idleTimeoutMillis: IDLE_TIMEOUT_MS,
      connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
      statementTimeoutMs,
      queryTimeoutMs,
      applicationName,
      sslmode,
      embedded,
    },
  }
}
