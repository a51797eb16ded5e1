/**
 * The load generator process: autocannon driven by a LoadSpec (JSON on stdin: bodies can be
 * large), reporting JSON lines on stdout (LoadEvent). It always runs outside the box.
 */
import { createRequire } from 'node:module'
import { text } from 'node:stream/consumers'
import {
  type LoadEvent,
  type LoadResult,
  type LoadSpec,
  pickKind,
  type RequestKind,
} from './load-spec.js'

interface Request {
  method?: string
  path?: string
  headers?: Record<string, string>
  body?: string
}
interface Client {
  on(event: 'headers', listener: (info: { statusCode: number; headers: string[] }) => void): void
}
interface Result {
  duration: number
  latency: { p50: number; p99: number }
  statusCodeStats: Record<string, { count: number }>
  timeouts: number
}
interface Instance {
  on(event: 'tick', listener: (counts: { counter: number }) => void): void
  on(event: 'reqError', listener: (error: NodeJS.ErrnoException) => void): void
}
type Autocannon = (
  options: Record<string, unknown>,
  done: (error: Error | null, result: Result) => void,
) => Instance

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon
const spec = JSON.parse(await text(process.stdin)) as LoadSpec

const emit = (event: LoadEvent) => process.stdout.write(`${JSON.stringify(event)}\n`)

let sent = 0
const counters = spec.mix.map(() => 0)
const setupRequest = (request: Request): Request => {
  const index = pickKind(spec.mix, sent++)
  const kind = spec.mix[index] as RequestKind
  const n = (counters[index] as number) + 1
  counters[index] = n
  const path = kind.paths[n % kind.paths.length] as string
  if (kind.method === 'POST') {
    const bodies = kind.bodies ?? ['{}']
    return {
      ...request,
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json' },
      body: bodies[n % bodies.length] as string,
    }
  }
  return { ...request, method: 'GET', path, body: '' }
}

function run(durationS: number, measured: boolean): Promise<LoadResult> {
  const errors: Record<string, number> = {}
  const xCache: Record<string, number> = {}
  let with503 = 0
  let without503 = 0
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.origin,
        connections: spec.connections,
        duration: durationS,
        timeout: spec.timeoutS,
        requests: [{ setupRequest }],
        setupClient: (client: Client) => {
          if (!measured) return
          client.on('headers', ({ statusCode, headers }) => {
            let cache = 'none'
            let retryAfter = false
            for (let i = 0; i < headers.length; i += 2) {
              const name = (headers[i] as string).toLowerCase()
              if (name === 'x-cache') cache = headers[i + 1] as string
              else if (name === 'retry-after') retryAfter = true
            }
            xCache[cache] = (xCache[cache] ?? 0) + 1
            if (statusCode === 503) {
              if (retryAfter) with503++
              else without503++
            }
          })
        },
      },
      (error, result) => {
        if (error) return reject(error)
        const statuses: Record<string, number> = {}
        let responses = 0
        for (const [code, { count }] of Object.entries(result.statusCodeStats)) {
          statuses[code] = count
          responses += count
        }
        if (result.timeouts > 0) errors.timeout = result.timeouts
        resolve({
          durationS: result.duration,
          responses,
          requestsPerSecond: result.duration > 0 ? responses / result.duration : 0,
          latencyP50Ms: result.latency.p50,
          latencyP99Ms: result.latency.p99,
          statuses,
          errors,
          status503WithRetryAfter: with503,
          status503WithoutRetryAfter: without503,
          xCache,
        })
      },
    )
    instance.on('reqError', (error) => {
      if (error.message === 'request timed out') return
      const code = error.code ?? error.message
      errors[code] = (errors[code] ?? 0) + 1
    })
    if (measured) {
      let total = 0
      instance.on('tick', ({ counter }) => {
        total += counter
        emit({ event: 'tick', responses: total })
      })
    }
  })
}

try {
  const warmup = spec.warmupS > 0 ? await run(spec.warmupS, false) : undefined
  emit({ event: 'start', warmup })
  emit({ event: 'done', result: await run(spec.durationS, true) })
} catch (error) {
  emit({ event: 'error', message: (error as Error).message })
  process.exitCode = 1
}
