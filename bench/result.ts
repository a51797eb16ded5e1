import type { LoadResult } from './load-spec.js'
import type { Timeline } from './sampler.js'
import type { Scenario } from './scenario.js'

/** The shape of a bench run's JSON (and everything the report is made from). */

export interface ProcessResult {
  label: string
  /** The app's configuration in words (or what the baseline is). */
  config: string
  /** Its box's memory limit (MEMORY_LIMIT_MB outside a box). */
  memoryLimitMb: number | undefined
  shedRssMb: number | undefined
  /** Spawn to first /healthz 200, one per spawn; the report uses the median. */
  bootMs: number[]
  /** Spawn to the first cached answer of a scenario's cold-read path, one per spawn (app only). */
  coldReadMs: number[]
  /** CPU time (user+sys of the process tree) from spawn to that 200, one per spawn. */
  bootCpuMs: number[]
  /** Tree RSS after the post-start GC, one per spawn. */
  idleRssMb: number[]
  /** The server process alone (differs from the tree only when the bootstrap stays resident). */
  idleServerRssMb: number[]
  /** Highest RSS seen: sampled tree RSS and the server's VmHWM, whichever is higher. */
  peakRssMb: number
  /** What the box counted: peak memory (RSS plus the page cache it charged) and OOM kills. */
  box?: { peakMb: number; oomKills: number }
  /** The memory limit the app's own plan found, and where (its first log line). */
  plan?: string
  /** Exit codes other than a clean 0 after SIGTERM, and notable log lines. */
  exits: string[]
  leakGuardFired: boolean
}

/** Bare Fastify's /healthz in one window: what throughput, CPU and latency ratios divide by. */
export interface Reference {
  rps: number
  cpuUs: number | undefined
  p99Ms: number
  /** What it served while warming up before that window. */
  warmupRps?: number
}

export interface ScenarioResult {
  name: string
  title: string
  /** ProcessResult.label it ran against. */
  process: string
  /** How the scenario makes its point (cache state, ids, limit). */
  how: string
  /** Present when it did not run: why. */
  skipped?: string
  connections?: number
  load?: LoadResult
  cpuMicrosPerRequest?: number
  /** req/s ÷ bare Fastify's /healthz req/s. */
  throughputRatio?: number
  /** CPU/request ÷ bare Fastify's /healthz CPU/request. */
  cpuRatio?: number
  /** p99 latency ÷ bare Fastify's /healthz p99. */
  p99Ratio?: number
  /**
   * The /healthz window these ratios divide by, when it was measured just before this one (a
   * scenario with a ratio target); absent: the run's first, on bare Fastify's own turn.
   */
  reference?: Reference
  peakRssMb?: number
  /** Share of the server's CPU that other processes on the machine used during the window. */
  otherCpuShare?: number
  /** The unmeasured load before the window: how long, and what it served while the JIT warmed. */
  warmup?: { seconds: number; requestsPerSecond: number }
}

export interface BenchResult {
  kind: 'bench' | 'soak'
  startedAt: string
  finishedAt: string
  node: string
  machine: {
    cpus: number
    model: string
    pinned: boolean
    /** Where the servers ran: in a box (which), or pinned, and why. */
    pinning: string
    /** The box each server ran in; undefined when none could be made. */
    box?: { cgroup: 'v1' | 'v2'; cpus: number; memoryMb: number }
    /** /proc/loadavg's 1-minute figure at the start and the end: a busy machine skews figures. */
    loadAverage: [number, number]
  }
  command: string
  database: string
  /** Seconds of the server's CPU under unmeasured load before each scenario's window. */
  warmupCpuS?: number
  processes: ProcessResult[]
  scenarios: ScenarioResult[]
  /** Per scenario name, the targets it declared (for the report's checks). */
  targets?: Record<string, NonNullable<Scenario['targets']>>
  soak?: SoakResult
  timeline: Timeline
}

export interface SoakResult {
  minutes: number
  memoryLimitMb: number
  peakRssMb: number
  crossedLimit: boolean
  shed503: number
  leakGuardFired: boolean
  exit: string | undefined
  load?: LoadResult
}

/** A /healthz window as the reference other windows divide by. */
export function referenceOf(measured: ScenarioResult): Reference | undefined {
  const load = measured.load
  if (!load) return undefined
  return {
    rps: load.requestsPerSecond,
    cpuUs: measured.cpuMicrosPerRequest,
    p99Ms: load.latencyP99Ms,
    ...(measured.warmup ? { warmupRps: measured.warmup.requestsPerSecond } : {}),
  }
}
