import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify'
import pino from 'pino'
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

/** The part of pino's default destination (sonic-boom) that says whether a write is pending. */
interface Destination {
  _writing?: boolean
  once?(event: 'drain', listener: () => void): unknown
}

/**
 * Resolves once every line given to the logger has reached stdout, or after `timeoutMs`.
 * pino's destination writes asynchronously and never blocks on a full stdout pipe; at exit it
 * writes what it holds synchronously, except a chunk whose write is being retried, which would be
 * lost. So whoever ends the process waits for this first.
 */
export function logsWritten(log: FastifyBaseLogger, timeoutMs: number): Promise<void> {
  const stream = (log as unknown as Record<symbol, Destination | undefined>)[pino.symbols.streamSym]
  if (!stream?._writing || typeof stream.once !== 'function') return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs)
    timer.unref()
    stream.once?.('drain', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}
