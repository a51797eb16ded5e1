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
            options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' },
          },
        }
      : {}),
  }
}
