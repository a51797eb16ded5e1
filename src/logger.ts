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

/** Lines reach stdout in writes of about this many bytes... */
export const LOG_BUFFER_BYTES = 4096
/** ...or this long after they were logged, whichever comes first. */
export const LOG_FLUSH_MS = 1000

/**
 * stdout as pino's asynchronous destination (sonic-boom), buffered. Each write hands its bytes to
 * a libuv thread and back: in the 0.1-CPU box that cost ~150 µs of CPU a write, so one line per
 * write made the 1% of sampled request lines 10% of a cached read's CPU. A timer flushes what
 * waits; at exit logsWritten (or pino's exit hook) flushes the rest.
 */
let stdout: pino.DestinationStream | undefined

/** One per process: every app built here (tests build many) writes to the same stdout. */
function sharedStdout(): pino.DestinationStream {
  stdout ??= bufferedStdout()
  return stdout
}

export function bufferedStdout(): pino.DestinationStream {
  const stream = pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES })
  setInterval(() => startWriting(stream as unknown as Destination), LOG_FLUSH_MS).unref()
  return stream
}

/**
 * JSON to stdout everywhere (buffered: see bufferedStdout); pino-pretty only in development on a
 * TTY (a transport costs a thread and memory, so production never loads it).
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
      ? {}
      : {
          stream: sharedStdout(),
        }),
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

/** The part of pino's destination (sonic-boom) that says what is buffered or being written. */
interface Destination {
  _writing?: boolean
  _len?: number
  flush?(): void
  once?(event: 'drain', listener: () => void): unknown
}

/** Starts writing what the buffer holds now, without waiting for it to fill. */
function startWriting(stream: Destination | undefined): void {
  if ((stream?._len ?? 0) > 0 && !stream?._writing) stream?.flush?.()
}

/**
 * Resolves once every line given to the logger has reached stdout, or after `timeoutMs`.
 * pino's destination writes asynchronously and never blocks on a full stdout pipe; at exit it
 * writes what it holds synchronously, except a chunk whose write is being retried, which would be
 * lost. So whoever ends the process waits for this first.
 */
export function logsWritten(log: FastifyBaseLogger, timeoutMs: number): Promise<void> {
  const stream = (log as unknown as Record<symbol, Destination | undefined>)[pino.symbols.streamSym]
  startWriting(stream)
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
