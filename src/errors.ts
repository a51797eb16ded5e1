/** A dependency (Postgres, Redis, the worker pool) cannot serve this request: 503 naming it. */
export class DependencyUnavailableError extends Error {
  readonly statusCode = 503
  constructor(
    readonly dependency: string,
    message = `${dependency} unavailable`,
    readonly retryAfterSeconds = 5,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'DependencyUnavailableError'
  }
}

/** A dependency took longer than its budget: 504 naming it. */
export class DependencyTimeoutError extends Error {
  readonly statusCode = 504
  constructor(
    readonly dependency: string,
    message = `${dependency} timed out`,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'DependencyTimeoutError'
  }
}

/** Where a bad value came from, as Fastify's validation names it. */
export type InputContext = 'body' | 'querystring' | 'params' | 'headers'

/**
 * Bad input found after schema validation (e.g. a cursor that does not decode): the error plugin
 * answers it exactly like a schema failure, 400 with `issues: [{ field, rule, message }]`.
 */
export class InvalidInputError extends Error {
  readonly statusCode = 400
  readonly validation: Array<{
    instancePath: string
    keyword: string
    message: string
    params: Record<string, unknown>
  }>
  constructor(
    readonly validationContext: InputContext,
    field: string,
    rule: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${validationContext}/${field} ${message}`, options)
    this.name = 'InvalidInputError'
    this.validation = [{ instancePath: `/${field}`, keyword: rule, message, params: {} }]
  }
}
