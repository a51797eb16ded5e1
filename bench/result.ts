import type { LoadResult } from './load-spec.js'
import type { Timeline } from './sampler.js'

/** The shape of a bench run's JSON (and everything the report is made from). */

export interface ProcessResult {
  label: string
  /** `baseline` or the app's configuration in words. */
  config: string
  memoryLimitMb: number | undefined
  shedRssMb: number | undefined
  /** Spawn to first /healthz 200, one per spawn; the report uses the median. */
  bootMs: number[]
  /** CPU time (user+sys of the process tree) from spawn to that 200, one per spawn. */
  bootCpuMs: number[]
  /** Tree RSS after the post-start GC, one per spawn. */
  idleRssMb: number[]
  /** The server process alone (differs from the tree only when the bootstrap stays resident). */
  idleServerRssMb: number[]
  /** Highest RSS seen: sampled tree RSS and the server's VmHWM, whichever is higher. */
  peakRssMb: number
  /** Exit codes other than a clean 0 after SIGTERM, and notable log lines. */
  exits: string[]
  leakGuardFired: boolean
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
  /** req/s ÷ baseline /healthz req/s. */
  throughputRatio?: number
  /** CPU/request ÷ baseline /healthz CPU/request. */
  cpuRatio?: number
  peakRssMb?: number
  /** Share of the server's CPU that other processes on the machine used during the window. */
  otherCpuShare?: number
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
    pinning: string
    /** /proc/loadavg's 1-minute figure at the start and the end: a busy machine skews figures. */
    loadAverage: [number, number]
  }
  command: string
  database: string
  processes: ProcessResult[]
  scenarios: ScenarioResult[]
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
