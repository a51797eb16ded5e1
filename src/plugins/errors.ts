import type { FastifyError, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { isDataException } from '../db/query.js'
import { DependencyTimeoutError, DependencyUnavailableError } from '../errors.js'
import { LogBudget } from '../log-budget.js'

// Not `import ... from 'node:http'`: on Node 24 the ESM facade of node:http evaluates every lazy
// export and loads undici (~90 ms of CPU and ~13 MB at start); the CommonJS object does not.
const { STATUS_CODES } = process.getBuiltinModule('node:http')

export interface ValidationIssue {
  /** Where the bad value is, e.g. `body/title` or `querystring/limit`. */
  field: string
  /** The schema rule it broke, e.g. `minLength`, `format`, `required`. */
  rule: string
  message: string
}

function validationIssues(error: FastifyError): ValidationIssue[] {
  const context = error.validationContext ?? 'request'
  return (error.validation ?? []).map((v) => {
    const missing = (v.params as { missingProperty?: string }).missingProperty
    const path = [context, v.instancePath.replace(/^\//, ''), missing].filter(Boolean).join('/')
    return { field: path, rule: v.keyword, message: `${path} ${v.message ?? 'is invalid'}` }
  })
}

/**
 * One error shape for the whole API: `{ statusCode, error, message }`, plus `issues` for bad
 * input and `dependency` for outages. 5xx never carry internals in production.
 */
async function errors(app: FastifyInstance) {
  const production = app.config.isProduction
  // A dependency that refuses refuses many requests at once: one warning a second each.
  const warnings = new LogBudget()

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      const issues = validationIssues(error)
      return reply
        .code(400)
        .send({ statusCode: 400, error: 'Bad Request', message: issues[0]?.message, issues })
    }
    if (isDataException(error)) {
      // A value Postgres refused that no schema or store named: still the client's input.
      const issue = {
        field: 'request',
        rule: `sqlstate ${error.code}`,
        message: 'request has a value the database refuses',
      }
      return reply
        .code(400)
        .send({ statusCode: 400, error: 'Bad Request', message: issue.message, issues: [issue] })
    }
    if (error instanceof DependencyUnavailableError || error instanceof DependencyTimeoutError) {
      const suppressed = warnings.take(error.dependency)
      if (suppressed !== undefined) {
        const line = { dependency: error.dependency, err: error.cause ?? error }
        request.log.warn(suppressed > 0 ? { ...line, suppressed } : line, error.message)
      }
      if (error instanceof DependencyUnavailableError) {
        reply.header('retry-after', error.retryAfterSeconds)
      }
      return reply.code(error.statusCode).send({
        statusCode: error.statusCode,
        error: STATUS_CODES[error.statusCode],
        message: error.message,
        dependency: error.dependency,
      })
    }
    const statusCode =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500
    if (statusCode >= 500 && statusCode !== 503) request.log.error({ err: error }, 'request failed')
    const exposeMessage = statusCode < 500 || statusCode === 503 || !production
    return reply.code(statusCode).send({
      statusCode,
      error: STATUS_CODES[statusCode] ?? 'Error',
      message: exposeMessage ? error.message : 'Internal Server Error',
    })
  })

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({
      statusCode: 404,
      error: 'Not Found',
      message: `Route ${request.method} ${request.url.split('?')[0]} not found`,
    })
  })
}

export default fp(errors, { name: 'errors' })
