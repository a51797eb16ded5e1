import type { FastifyServerOptions } from 'fastify'
import type { Config } from './config.js'

/** Headers that must never reach the logs, wherever a serializer puts them. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
]

/**
 * JSON to stdout everywhere; pino-pretty only in development on a TTY (a transport costs a
 * thread and memory, so production never loads it).
 */
export function loggerOptions(
  config: Pick<Config, 'LOG_LEVEL' | 'NODE_ENV'>,
  isTTY = Boolean(process.stdout.isTTY),
): FastifyServerOptions['logger'] {
  const pretty = config.NODE_ENV === 'development' && isTTY
  return {
    level: config.LOG_LEVEL,
    redact: { paths: REDACT, censor: '[redacted]' },
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            // One short line per entry: the message, and for a request its method, url,
            // status and time; other fields stay in the JSON logs (errors still print).
            options: {
              translateTime: 'HH:MM:ss.l',
              ignore: 'pid,hostname',
              hideObject: true,
              messageFormat:
                '{msg}{if method}: {method} {url} {statusCode} {responseTimeMs}ms{end}',
            },
          },
        }
      : {}),
  }
}
