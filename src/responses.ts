import type { TSchema } from 'typebox'
import { ErrorResponse } from './schemas.js'

/**
 * Response schemas routes compose when they register, from the JSON schemas: plain objects, so
 * nothing here loads TypeBox at run time (schemas modules are evaluated by the build; see
 * scripts/build.ts).
 */

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
