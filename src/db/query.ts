import type { QueryResult, QueryResultRow } from 'pg'
import { DependencyUnavailableError } from '../errors.js'

/** A pg.Pool or a checked-out client: anything that runs a parameterized query. */
export interface Queryable {
  query<R extends QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
])

// SQLSTATEs that mean "the database cannot serve now", not "this query is wrong".
const UNAVAILABLE_SQLSTATES = new Set([
  '57014', // query_canceled: statement_timeout
  '57P01', // admin_shutdown: the server is stopping or the backend was terminated
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or in recovery
  '53300', // too_many_connections
  '3D000', // invalid_catalog_name: the database is gone (e.g. an expired free instance)
  '28000', // invalid_authorization_specification
  '28P01', // invalid_password: credentials rotated or revoked
])

// pg's own client-side failures carry no code, only these messages.
const CLIENT_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|Client was closed|Cannot use a pool after calling end/

/** True when the error means Postgres is unreachable, gone or too slow (a 503), not a bad query. */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code)) return true
    if (code.startsWith('08')) return true // connection_exception class
  }
  if (error instanceof AggregateError) return error.errors.some(isUnavailable)
  return CLIENT_MESSAGES.test(error.message)
}

/** Turns an outage into the 503 the error plugin answers; anything else is rethrown as is. */
export function toDependencyError(error: unknown): unknown {
  if (isUnavailable(error)) {
    return new DependencyUnavailableError('postgres', 'database unavailable', 5, { cause: error })
  }
  return error
}

/** Runs one parameterized query, mapping an outage to DependencyUnavailableError('postgres'). */
export async function query<R extends QueryResultRow>(
  db: Queryable,
  text: string,
  values?: unknown[],
): Promise<QueryResult<R>> {
  try {
    return await db.query<R>(text, values)
  } catch (error) {
    throw toDependencyError(error)
  }
}
