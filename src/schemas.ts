import Type, { type TStringOptions } from 'typebox'

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
