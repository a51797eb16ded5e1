import type { ClientConfig, PoolConfig } from 'pg'
import { parse, toClientConfig } from 'pg-connection-string'
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
 * The connection a URL describes, with `sslmode` as libpq means it: pg's own parser
 * (pg-connection-string) in its libpq-compatible mode decides, reading `sslrootcert`, `sslcert`
 * and `sslkey` files as libpq does (`require` with a root certificate verifies the CA like
 * `verify-ca`; `verify-ca` checks the chain but not the host name). The result carries no
 * connection string, so pg never re-parses the URL with its other, stricter defaults. pg
 * cannot fall back between TLS and plain text, so `allow` connects in plain text (libpq's first
 * try) and `prefer` requires TLS without verifying the certificate.
 */
export function connectionFromUrl(url: string): {
  connection: ClientConfig
  sslmode: SslMode | 'unset'
} {
  const mode = new URL(url).searchParams.get('sslmode')
  if (mode !== null && !SSL_MODES.includes(mode)) {
    throw new Error(`DATABASE_URL: sslmode=${mode} is not one of ${SSL_MODES.join(', ')}`)
  }
  const connection = toClientConfig(parse(url, { useLibpqCompat: true }))
  if (mode === 'allow') connection.ssl = false
  return { connection, sslmode: (mode as SslMode | null) ?? 'unset' }
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
  const { connection, sslmode } = connectionFromUrl(url)
  // PGlite runs one query at a time for the whole database: one connection, no interleaving.
  const max = embedded ? 1 : config.PG_POOL_MAX
  const statementTimeoutMs = config.PG_STATEMENT_TIMEOUT_MS
  const queryTimeoutMs = statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS
  return {
    config: {
      ...connection,
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
