import { dirname, join } from 'node:path'
import { ownCgroupPaths, readOptional } from './cgroup.js'

/**
 * The memory plan: one number (the container limit) in, every memory budget out.
 * All fractions live in SHARES so tuning happens in one place.
 */
export const SHARES = {
  oldSpace: 0.5,
  workerHeap: 0.08,
  cache: 0.0625,
  /**
   * Work in flight: response bodies being sent plus the loads behind them, in payload bytes
   * (their footprint in memory is a few times that: rows, text, socket buffers).
   */
  inFlight: 0.0625,
  /** The most one list page may carry, as a share of the in-flight budget. */
  pageOfInFlight: 1 / 16,
  shedRss: 0.85,
  shedHeapOfOldSpace: 0.9,
  leakHeapOfOldSpace: 0.8,
} as const

export const DEFAULT_LIMIT_MB = 512
/** Smaller than this and V8 itself does not fit alongside Node's baseline. */
export const MIN_LIMIT_MB = 64
const MAX_SEMI_SPACE_MB = 8
const START_SEMI_SPACE_MB = 4
const MIN_WORKER_HEAP_MB = 16
/** cgroup files say "max", or a number near 2^63/2^64, when there is no limit. */
const NO_LIMIT_BYTES = 2 ** 60
const MB = 1024 * 1024

export type LimitSource =
  | 'MEMORY_LIMIT_MB'
  | 'cgroup v2'
  | 'cgroup v1'
  | 'process.constrainedMemory'
  | 'default'

export interface LimitInputs {
  /** MEMORY_LIMIT_MB, already validated by config. */
  envLimitMb?: number | undefined
  /** This process's cgroup v2 memory.max (the tightest up to the root), or undefined. */
  cgroupV2?: string | undefined
  /** Its cgroup v1 memory.limit_in_bytes (the tightest up to the root), or undefined. */
  cgroupV1?: string | undefined
  /** process.constrainedMemory() in bytes, where the runtime has it. */
  constrainedBytes?: number | undefined
}

export interface MemoryPlan {
  limitMb: number
  source: LimitSource
  /** Present when the limit fell back to the default or an input was unusable. */
  warnings: string[]
  oldSpaceMb: number
  semiSpaceMb: number
  workerHeapMb: number
  cacheBytes: number
  /** Bytes of responses and loads in flight; above it, requests get 503 + Retry-After. */
  inFlightBytes: number
  /** The most bytes one page of a list carries (it ends early; its cursor continues). */
  pageBytes: number
  shedRssBytes: number
  shedHeapUsedBytes: number
  leakHeapUsedBytes: number
}

/** Parses a cgroup limit file: bytes, or undefined for "max", absurd or garbage contents. */
export function parseCgroupBytes(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const trimmed = text.trim()
  if (!/^\d+$/.test(trimmed)) return undefined
  const bytes = Number(trimmed)
  if (!Number.isFinite(bytes) || bytes <= 0 || bytes >= NO_LIMIT_BYTES) return undefined
  return bytes
}

function usableBytes(bytes: number | undefined): number | undefined {
  if (bytes === undefined || !Number.isFinite(bytes) || bytes <= 0 || bytes >= NO_LIMIT_BYTES) {
    return undefined
  }
  return bytes
}

/** Picks the limit: first usable source wins. */
export function resolveLimit(inputs: LimitInputs): {
  limitMb: number
  source: LimitSource
  warnings: string[]
} {
  const warnings: string[] = []
  if (inputs.envLimitMb !== undefined) {
    return { limitMb: inputs.envLimitMb, source: 'MEMORY_LIMIT_MB', warnings }
  }
  const candidates: Array<[LimitSource, number | undefined, string | undefined]> = [
    ['cgroup v2', parseCgroupBytes(inputs.cgroupV2), inputs.cgroupV2],
    ['cgroup v1', parseCgroupBytes(inputs.cgroupV1), inputs.cgroupV1],
    ['process.constrainedMemory', usableBytes(inputs.constrainedBytes), undefined],
  ]
  for (const [source, bytes, raw] of candidates) {
    if (bytes !== undefined) {
      const limitMb = Math.floor(bytes / MB)
      if (limitMb >= MIN_LIMIT_MB) return { limitMb, source, warnings }
      warnings.push(`${source} limit of ${limitMb} MB is below ${MIN_LIMIT_MB} MB; ignored`)
    } else if (raw !== undefined && raw.trim() !== 'max' && !/^\d+$/.test(raw.trim())) {
      warnings.push(`${source} file holds ${JSON.stringify(raw.trim().slice(0, 40))}; ignored`)
    }
  }
  warnings.push(
    `no memory limit found; assuming ${DEFAULT_LIMIT_MB} MB (set MEMORY_LIMIT_MB to choose)`,
  )
  return { limitMb: DEFAULT_LIMIT_MB, source: 'default', warnings }
}

export const MAX_LIMIT_MB = 1048576

/**
 * MEMORY_LIMIT_MB as the bootstrap sees it, by the same rule as config's schema: undefined when
 * unset, 'invalid' when the server's config validation will refuse it.
 */
export function parseLimitMb(raw: string | undefined): number | undefined | 'invalid' {
  if (raw === undefined || raw.trim() === '') return undefined
  const value = Number(raw)
  return Number.isInteger(value) && value >= MIN_LIMIT_MB && value <= MAX_LIMIT_MB
    ? value
    : 'invalid'
}

/** Pure: derives every budget from the inputs. */
export function planMemory(inputs: LimitInputs): MemoryPlan {
  const { limitMb, source, warnings } = resolveLimit(inputs)
  const oldSpaceMb = Math.floor(limitMb * SHARES.oldSpace)
  // The young generation stays small: a bigger one buys little throughput and costs RSS.
  const semiSpaceMb = Math.max(1, Math.min(MAX_SEMI_SPACE_MB, Math.floor(limitMb / 64)))
  const workerHeapMb = Math.max(MIN_WORKER_HEAP_MB, Math.floor(limitMb * SHARES.workerHeap))
  const inFlightBytes = Math.floor(limitMb * SHARES.inFlight * MB)
  return {
    limitMb,
    source,
    warnings,
    oldSpaceMb,
    semiSpaceMb,
    workerHeapMb,
    cacheBytes: Math.floor(limitMb * SHARES.cache * MB),
    inFlightBytes,
    pageBytes: Math.floor(inFlightBytes * SHARES.pageOfInFlight),
    shedRssBytes: Math.floor(limitMb * SHARES.shedRss * MB),
    shedHeapUsedBytes: Math.floor(oldSpaceMb * SHARES.shedHeapOfOldSpace * MB),
    leakHeapUsedBytes: Math.floor(oldSpaceMb * SHARES.leakHeapOfOldSpace * MB),
  }
}

/**
 * The Node flags that apply a plan to the server process. The bootstrap (scripts/start.ts) starts
 * the server with them, or runs it in its own process when its start command already has them.
 */
export function v8Flags(plan: Pick<MemoryPlan, 'oldSpaceMb' | 'semiSpaceMb'>): string[] {
  return [
    `--max-old-space-size=${plan.oldSpaceMb}`,
    `--max-semi-space-size=${plan.semiSpaceMb}`,
    // Start with a young generation of 4 MB, not V8's 1 MB: start-up allocates ~15 MB of short-
    // lived objects, so fewer scavenges (~10 ms less CPU to the first 200; idle RSS +0.5 MB).
    `--min-semi-space-size=${Math.min(START_SEMI_SPACE_MB, plan.semiSpaceMb)}`,
    // server.ts runs one full GC after start; the leak guard runs them when the heap stays high.
    '--expose-gc',
  ]
}

/**
 * The tightest limit from a cgroup up to its hierarchy's root (a parent's limit binds its
 * children too): the raw text of the smallest usable value, else of the first file found.
 */
function tightestLimit(hierarchy: string, path: string, file: string): string | undefined {
  let best: { raw: string; bytes: number } | undefined
  let first: string | undefined
  for (let dir = path; ; dir = dirname(dir)) {
    const raw = readOptional(join(hierarchy, dir, file))
    first ??= raw
    const bytes = parseCgroupBytes(raw)
    if (raw !== undefined && bytes !== undefined && (best === undefined || bytes < best.bytes)) {
      best = { raw, bytes }
    }
    if (dir === '/' || dir === '.') break
  }
  return best?.raw ?? first
}

/**
 * Reads the limit sources of this machine. `cgroupRoot` and `procCgroup` are parameters so tests
 * can use fixtures.
 */
export function readLimitInputs(
  envLimitMb: number | undefined,
  cgroupRoot = '/sys/fs/cgroup',
  procCgroup = '/proc/self/cgroup',
): LimitInputs {
  const own = ownCgroupPaths(readOptional(procCgroup), 'memory')
  return {
    envLimitMb,
    cgroupV2: tightestLimit(cgroupRoot, own.v2, 'memory.max'),
    cgroupV1: tightestLimit(join(cgroupRoot, 'memory'), own.v1, 'memory.limit_in_bytes'),
    constrainedBytes:
      typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : undefined,
  }
}

const mb = (bytes: number) => `${Math.round(bytes / MB)}MB`

/** The one line the bootstrap prints. */
export function describePlan(plan: MemoryPlan): string {
  return [
    `memory limit ${plan.limitMb}MB (from ${plan.source})`,
    `old-space ${plan.oldSpaceMb}MB`,
    `semi-space ${plan.semiSpaceMb}MB`,
    `worker heap ${plan.workerHeapMb}MB`,
    `cache ${mb(plan.cacheBytes)}`,
    `in flight ${mb(plan.inFlightBytes)} (page ${mb(plan.pageBytes)})`,
    `shed at rss ${mb(plan.shedRssBytes)} / heap ${mb(plan.shedHeapUsedBytes)}`,
    `leak guard at heap ${mb(plan.leakHeapUsedBytes)}`,
  ].join(', ')
}
