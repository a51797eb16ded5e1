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
