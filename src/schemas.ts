import Type, { type TSchema, type TStringOptions } from 'typebox'

/**
 * Schema pieces every resource shares, so input is canonical at the edge: what passes the
 * schema is a value the database accepts and one cache key per thing.
 */

/** A UUID in its canonical form: lowercase hex with hyphens (no braces, no `urn:uuid:`). */
export const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'

/**
 * An id as Postgres's uuid type prints it. Ajv's `format: uuid` also accepts upper case and
 * `urn:uuid:` prefixes: one note would have several cache keys, and Postgres refuses the prefix.
 */
export const Uuid = () =>
  Type.String({
    pattern: UUID_PATTERN,
    description: 'a lowercase UUID',
    examples: ['0190c7a8-5c3e-7d2f-9a1b-3c4d5e6f7a8b'],
  })

/** Text Postgres can store: any characters but NUL, which its text type refuses. */
export const Text = (options: TStringOptions = {}) =>
  Type.String({ ...options, pattern: '^[^\\u0000]*$' })

/** The one error shape the error plugin sends (src/plugins/errors.ts). */
export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String(),
    message: Type.String(),
    issues: Type.Optional(
      Type.Array(
        Type.Object({
          field: Type.String({ description: 'where the bad value is, e.g. body/title' }),
          rule: Type.String({ description: 'the rule it broke, e.g. minLength' }),
          message: Type.String(),
        }),
        { description: 'bad input (400): each field and rule' },
      ),
    ),
    dependency: Type.Optional(
      Type.String({ description: 'an outage (503, 504): what is down, e.g. postgres' }),
    ),
  },
  { description: 'an error' },
)

const ERROR_MEANINGS: Record<number, string> = {
  400: 'bad input: which field, which rule',
  404: 'no such resource',
  413: 'body over 1 MiB',
  429: 'rate limited (Retry-After)',
  503: 'a dependency is down or the server is shedding load (Retry-After)',
  504: 'a dependency took too long',
}

/** Response schemas for the error codes a route can answer, in the shape the API sends them. */
export function errorResponses<const Code extends keyof typeof ERROR_MEANINGS>(...codes: Code[]) {
  return Object.fromEntries(
    codes.map((code) => [code, { ...ErrorResponse, description: ERROR_MEANINGS[code] }]),
  ) as unknown as Record<Code, typeof ErrorResponse>
}

/**
 * A response the cache may answer: the schema plus its `x-cache` header (which tier answered),
 * for the OpenAPI document; serialization ignores `headers`.
 */
export const cached = <T extends TSchema>(schema: T): T =>
  ({
    ...schema,
    headers: {
      'x-cache': {
        type: 'string',
        enum: ['l1', 'l2', 'miss'],
        description: 'which tier answered: in-process (l1), Redis (l2), or neither (miss)',
      },
    },
  }) as T
