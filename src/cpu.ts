import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { ownCgroupPaths, readOptional } from './cgroup.js'

/**
 * The CPU this process may use, as a share of one core (0.1 on the free tier: a CFS quota of
 * 10 ms per 100 ms): the tightest cgroup quota up to the root (v2 `cpu.max`, v1
 * `cpu.cfs_quota_us` / `cpu.cfs_period_us`), else the cores it may run on. Worker threads run on
 * the same quota as the event loop, so the pool is sized from it (`workerThreadsFor`).
 */
export interface CpuQuota {
  cpus: number
  source: 'cgroup v2' | 'cgroup v1' | 'cores'
}

/** `cpu.max` (v2): "quota period", or "max period" for none. */
export function parseCpuMax(text: string | undefined): number | undefined {
  const [quota, period] = text?.trim().split(/\s+/) ?? []
  return share(quota, period)
}

function share(quota: string | undefined, period: string | undefined): number | undefined {
  if (!quota || !period || !/^\d+$/.test(quota) || !/^\d+$/.test(period)) return undefined
  const cpus = Number(quota) / Number(period)
  return Number.isFinite(cpus) && cpus > 0 ? cpus : undefined
}

/** The smallest quota from `path` up to the hierarchy's root (a parent's quota binds too). */
function tightest(path: string, quotaAt: (dir: string) => number | undefined) {
  let best: number | undefined
  for (let dir = path; ; dir = dirname(dir)) {
    const cpus = quotaAt(dir)
    if (cpus !== undefined && (best === undefined || cpus < best)) best = cpus
    if (dir === '/' || dir === '.') break
  }
  return best
}

/** Reads this machine's quota; `cgroupRoot` and `procCgroup` are parameters for fixtures. */
export function readCpuQuota(
  cgroupRoot = '/sys/fs/cgroup',
  procCgroup = '/proc/self/cgroup',
  cores = availableParallelism(),
): CpuQuota {
  const own = ownCgroupPaths(readOptional(procCgroup), 'cpu')
  const v2 = tightest(own.v2, (dir) => parseCpuMax(readOptional(join(cgroupRoot, dir, 'cpu.max'))))
  const v1 = tightest(own.v1, (dir) =>
    share(
      readOptional(join(cgroupRoot, 'cpu', dir, 'cpu.cfs_quota_us'))?.trim(),
      readOptional(join(cgroupRoot, 'cpu', dir, 'cpu.cfs_period_us'))?.trim(),
    ),
  )
  const quota = v2 ?? v1
  if (quota !== undefined && quota < cores) {
    return { cpus: quota, source: v2 !== undefined ? 'cgroup v2' : 'cgroup v1' }
  }
  return { cpus: cores, source: 'cores' }
}

/**
 * Every worker thread's nice value (src/workers/entry.ts): lowest, so within the process's quota
 * the event loop gets the CPU first (CFS weights 1024 to 15) and workers what it leaves.
 */
export const WORKER_NICE = 19

/** Worker threads where WORKER_THREADS is not set, from one core up. */
export const WORKER_THREADS_DEFAULT = 2

/**
 * Below one core, threads add no throughput (they split the same quota, and each one's start
 * takes seconds of it) and each costs 25-35 MB: one thread. From one core up, two.
 */
export function workerThreadsFor(cpus: number): number {
  return cpus < 1 ? 1 : WORKER_THREADS_DEFAULT
}
