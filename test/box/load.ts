import { request } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'

/** What a hostile load sees: statuses, Retry-After on 503s, connections lost, bytes read. */
export interface LoadOutcome {
  /** status code (or error code such as ECONNRESET) -> count. */
  statuses: Record<string, number>
  /** 503 answers that carried no Retry-After header. */
  unavailableWithoutRetryAfter: number
  /** 503 answers by what they name: the body's `dependency`, else its message. */
  unavailableBy: Record<string, number>
  /** Bodies of 5xx answers other than 503 and 504 (what went wrong), at most a few. */
  serverErrors: string[]
  /** Requests that never got a complete answer (reset, refused, hang up). */
  connectionErrors: number
  bytesRead: number
}

interface Answer {
  status: number
  retryAfter: string | undefined
  bytes: number
  /** The body when it is small enough to be an error, else undefined. */
  text: string | undefined
}

const KEEP_TEXT_BYTES = 4096

/** One GET on a fresh connection; reads the whole body but keeps only its size (and small ones). */
export function get(url: string, timeoutMs = 120_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      let bytes = 0
      const small: Buffer[] = []
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length
        if (bytes <= KEEP_TEXT_BYTES) small.push(chunk)
      })
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: res.headers['retry-after'],
          bytes,
          text: bytes <= KEEP_TEXT_BYTES ? Buffer.concat(small).toString('utf8') : undefined,
        }),
      )
      res.on('error', reject)
      res.on('aborted', () => reject(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })))
    })
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })))
    req.on('error', reject)
    req.end()
  })
}

function unavailableBy(text: string | undefined): string {
  try {
    const body = JSON.parse(text ?? '') as { dependency?: string; message?: string }
    return body.dependency ?? body.message ?? '?'
  } catch {
    return '?'
  }
}

/** `clients` concurrent clients, each sending `rounds` GETs of `path` one after another. */
export async function concurrentGets(
  baseUrl: string,
  path: string | ((client: number, round: number) => string),
  options: { clients: number; rounds: number },
): Promise<LoadOutcome> {
  const pathOf = typeof path === 'string' ? () => path : path
  const outcome: LoadOutcome = {
    statuses: {},
    unavailableWithoutRetryAfter: 0,
    unavailableBy: {},
    serverErrors: [],
    connectionErrors: 0,
    bytesRead: 0,
  }
  const count = (key: string) => {
    outcome.statuses[key] = (outcome.statuses[key] ?? 0) + 1
  }
  const client = async (_: unknown, index: number) => {
    for (let round = 0; round < options.rounds; round++) {
      try {
        const answer = await get(`${baseUrl}${pathOf(index, round)}`)
        count(String(answer.status))
        outcome.bytesRead += answer.bytes
        if (answer.status === 503) {
          if (answer.retryAfter === undefined) outcome.unavailableWithoutRetryAfter++
          const by = unavailableBy(answer.text)
          outcome.unavailableBy[by] = (outcome.unavailableBy[by] ?? 0) + 1
        }
        if (
          answer.status >= 500 &&
          ![503, 504].includes(answer.status) &&
          outcome.serverErrors.length < 5
        ) {
          outcome.serverErrors.push(`${answer.status} ${answer.text ?? '(large body)'}`)
        }
      } catch (error) {
        outcome.connectionErrors++
        count((error as { code?: string }).code ?? (error as Error).message)
      }
    }
  }
  await Promise.all(Array.from({ length: options.clients }, client))
  return outcome
}

export interface HealthOutcome {
  checks: number
  /** Checks that did not answer 200 (status or error code -> count). */
  failures: Record<string, number>
  worstMs: number
  /** Each check: when it started (ms since polling began) and how long it took. */
  timeline: Array<[number, number]>
}

/** How long the platform waits for one health check's answer (Render: 5 s) before it counts a failure. */
export const PLATFORM_CHECK_TIMEOUT_MS = 5000

/**
 * Polls /healthz on a fresh connection every `intervalMs` (as the platform does) until stopped.
 * A check fails when it gets no 200 within `timeoutMs`: the platform's own 5 s by default
 * (PLATFORM_CHECK_TIMEOUT_MS); the memory tests, which run at full CPU on a machine shared with
 * other jobs, stretch it to a minute (they are about the process surviving, not about latency).
 */
export function pollHealth(
  baseUrl: string,
  { intervalMs = 250, timeoutMs = PLATFORM_CHECK_TIMEOUT_MS } = {},
) {
  const outcome: HealthOutcome = { checks: 0, failures: {}, worstMs: 0, timeline: [] }
  const begun = performance.now()
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      const started = performance.now()
      let result: string
      try {
        result = String((await get(`${baseUrl}/healthz`, timeoutMs)).status)
      } catch (error) {
        result = (error as { code?: string }).code ?? (error as Error).message
      }
      const ms = Math.round(performance.now() - started)
      // The socket timeout counts idle time; the platform counts the whole check.
      if (ms > timeoutMs) result = `over ${timeoutMs} ms`
      outcome.checks++
      outcome.worstMs = Math.max(outcome.worstMs, ms)
      outcome.timeline.push([Math.round(started - begun), ms])
      if (result !== '200') outcome.failures[result] = (outcome.failures[result] ?? 0) + 1
      await sleep(intervalMs)
    }
  })()
  return {
    async stop(): Promise<HealthOutcome> {
      stopped = true
      await loop
      return outcome
    },
  }
}
