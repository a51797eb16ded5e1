/** What the load generator is asked to send; plain data, so it crosses the process boundary. */

export interface RequestKind {
  /** Share of requests of this kind in a mix (any positive number; they are normalised). */
  weight: number
  method: 'GET' | 'POST'
  /** Cycled in order. */
  paths: string[]
  /** POST: JSON bodies, cycled in order. */
  bodies?: string[]
}

export interface LoadSpec {
  origin: string
  connections: number
  durationS: number
  warmupS: number
  mix: RequestKind[]
  /** Seconds before autocannon gives up on a request and reconnects. */
  timeoutS: number
}

export interface LoadResult {
  durationS: number
  /** Responses received (any status). */
  responses: number
  requestsPerSecond: number
  /** Latency of 2xx responses, ms. */
  latencyP50Ms: number
  latencyP99Ms: number
  /** Responses by status code. */
  statuses: Record<string, number>
  /** Connection errors by code (ECONNRESET ...), plus `timeout`. */
  errors: Record<string, number>
  /** 503 responses with and without a Retry-After header. */
  status503WithRetryAfter: number
  status503WithoutRetryAfter: number
  /** x-cache header values seen (`none` when absent). */
  xCache: Record<string, number>
}

export type LoadEvent =
  | { event: 'start'; warmup: LoadResult | undefined }
  | { event: 'tick'; responses: number }
  | { event: 'done'; result: LoadResult }
  | { event: 'error'; message: string }

/** Picks the request kind for the n-th request: weighted, deterministic, evenly interleaved. */
export function pickKind(mix: RequestKind[], n: number): number {
  if (mix.length === 1) return 0
  const total = mix.reduce((sum, kind) => sum + kind.weight, 0)
  // Golden-ratio sequence: spreads the kinds through the run instead of in blocks.
  const x = ((n * 0.6180339887498949) % 1) * total
  let acc = 0
  for (let i = 0; i < mix.length; i++) {
    acc += (mix[i] as RequestKind).weight
    if (x < acc) return i
  }
  return mix.length - 1
}
