import type { QueryResult, QueryResultRow } from 'pg'
import { DependencyUnavailableError, type InputContext, InvalidInputError } from '../errors.js'

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

/**
 * True for a Postgres data exception (SQLSTATE class 22: a value the column's type refuses, e.g.
 * an invalid uuid or timestamp, a NUL byte in text, a number out of range): bad input, a 400.
 */
export function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return error instanceof Error && typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code)
}

/**
 * Where each parameter of a query came from, as `context/field` (`$1` is the first entry), so a
 * data exception can name the field: e.g. `['params/id', 'body/title']`.
 */
export type ParamFields = ReadonlyArray<`${InputContext}/${string}` | undefined>

/** The field a data exception is about: the one whose value the message quotes, else the first. */
function culprit(error: Error, values: readonly unknown[], fields: ParamFields) {
  const named = fields.flatMap((field, i) => (field ? [{ field, value: values[i] }] : []))
  const quoted = named.find(
    ({ value }) => typeof value === 'string' && error.message.includes(`"${value}"`),
  )
  const withNul = named.find(({ value }) => typeof value === 'string' && value.includes('\0'))
  return (quoted ?? withNul ?? named[0])?.field
}

/**
 * Maps what a query's failure means for the request: an outage is the 503 naming `postgres`, a
 * data exception the 400 naming the field; anything else is rethrown as is.
 */
export function toQueryError(
  error: unknown,
  values: readonly unknown[] = [],
  fields: ParamFields = [],
): unknown {
  if (isUnavailable(error)) {
    return new DependencyUnavailableError('postgres', 'database unavailable', 5, { cause: error })
  }
  if (isDataException(error)) {
    const field = culprit(error as Error, values, fields)
    if (field !== undefined) {
      const [context, name] = field.split('/', 2) as [InputContext, string]
      return new InvalidInputError(
        context,
        name,
        `sqlstate ${(error as { code: string }).code}`,
        'is not a value the database accepts',
        { cause: error },
      )
    }
  }
  return error
}

/**
 * Runs one parameterized query: an outage becomes DependencyUnavailableError('postgres'), a
 * value the database refuses an InvalidInputError naming its field (see `fields`).
 */
export async function query<R extends QueryResultRow>(
  db: Queryable,
  text: string,
  values?: unknown[],
  fields?: ParamFields,
): Promise<QueryResult<R>> {
  try {
    return await db.query<R>(text, values)
  } catch (error) {
    throw toQueryError(error, values, fields)
  }
}
