import type { HttpResponse } from './http.js'
import type { RequestKind } from './load-spec.js'

/**
 * What a benchmark scenario is: the contract between the harness and the modules that bring
 * their own (bench/scenarios.ts lists them all). The harness knows routes only through these.
 */

export type { RequestKind }

/** An app configuration: environment over the app's own. Scenarios with one label share a process. */
export interface Variant {
  label: string
  /** In words, for the report. */
  config: string
  env?: Record<string, string>
  /** Node flags after the plan's (--compare). */
  nodeArgs?: string[]
  /** Whether the process gets REDIS_URL (default true, when the run has Redis). */
  redis?: boolean
  /** This process's memory limit in MB (its box's; MEMORY_LIMIT_MB outside a box). */
  memoryMb?: number
}

export interface ScenarioContext {
  /** The server under test, e.g. http://127.0.0.1:4321. */
  origin: string
  /** --quick: seed less, warm less. */
  quick: boolean
  /** Whether this process has Redis (REDIS_URL set). */
  redis: boolean
  /** Preparing a share of the soak's mix rather than the scenario's own measurement. */
  soak: boolean
  /** One request on a fresh connection. */
  get(path: string): Promise<HttpResponse>
  post(path: string, json: unknown): Promise<HttpResponse>
  log(message: string): void
}

/** The requests to send, or why the scenario cannot run on this build or configuration. */
export type Prepared = { mix: RequestKind[]; how?: string } | { skip: string }

export interface Scenario {
  /** For --scenario; unique. */
  name: string
  title: string
  /** How the scenario makes its point (a Prepared.how replaces it). */
  how: string
  /** The configuration it runs on; absent: the app as it is. */
  variant?: Variant
  /** Concurrent connections; absent: --connections. */
  connections?: number
  /** Once per run, on the app's first start (before any timed boot): e.g. seed the database. */
  seed?(ctx: ScenarioContext): Promise<void>
  /** On the process under test, just before the load: check, warm up, return the mix. */
  prepare(ctx: ScenarioContext): Promise<Prepared>
  /** Its share of the soak's mix; absent: not part of the soak. */
  soakWeight?: number
  /**
   * Also measure bare Fastify sending the app's own responses to this scenario's GETs, recorded
   * from the app (bench/baseline-replay.ts): what the responses cost to send, apart from the
   * app's work of making them.
   */
  sameResponses?: boolean
  /** A path whose first cached answer after a cold start is timed (what the first visitor waits for). */
  coldRead?(): string | undefined
  /** Checked and reported, never asserted. */
  targets?: {
    /** req/s ÷ bare Fastify's /healthz req/s, at least. */
    minThroughputRatio?: number
    /** CPU per request ÷ bare Fastify's, at most. */
    maxCpuRatio?: number
    /** Overload: 503s with Retry-After, no resets, no other 5xx, RSS under the limit. */
    shedsLoad?: boolean
  }
}

/** Whether the scenario has a req/s or CPU target (ratios to bare Fastify's /healthz). */
export function hasRatioTarget(scenario: Pick<Scenario, 'targets'>): boolean {
  const targets = scenario.targets
  return targets?.minThroughputRatio !== undefined || targets?.maxCpuRatio !== undefined
}

/** The route is not registered (Fastify's 404), as opposed to a missing resource. */
export function isMissingRoute(response: HttpResponse): boolean {
  if (response.status !== 404) return false
  try {
    return /^Route \w+[: ]\S+ not found$/.test(
      (JSON.parse(response.body) as { message?: string }).message ?? '',
    )
  } catch {
    return false
  }
}

/** The x-cache header of a response (undefined when absent). */
export function xCache(response: HttpResponse): string | undefined {
  const value = response.headers['x-cache']
  return Array.isArray(value) ? value[0] : value
}

/** Skip reason when GET `path` does not answer 2xx; undefined when it does. */
export async function answers(ctx: ScenarioContext, path: string): Promise<string | undefined> {
  const response = await ctx.get(path)
  if (isMissingRoute(response)) return `GET ${path} is not a route of this build`
  if (response.status >= 300)
    return `GET ${path} answered ${response.status}: ${response.body.slice(0, 160)}`
  return undefined
}
