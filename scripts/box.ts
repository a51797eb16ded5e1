/**
 * The free-tier box: a Linux cgroup with the platform's CPU quota and memory limit, to run a
 * process the way Render's free web service does (0.1 CPU as a CFS quota of 10 ms per 100 ms,
 * 512 MB, no swap). Used by the benchmark and by the tests that check behaviour inside a real
 * limit; also a command: `node dist/scripts/box.js --cpu 0.1 --memory 512 -- <command...>`.
 *
 * cgroup v2 (one hierarchy, `cpu.max` and `memory.max`) and v1 (separate `cpu`, `cpuacct` and
 * `memory` hierarchies, `cpu.cfs_quota_us` and `memory.limit_in_bytes`) are both handled. Making
 * a cgroup needs root (or a delegated subtree) on Linux; `boxSupport()` says why not elsewhere.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export interface BoxLimits {
  /** CPU as a share of one core: 0.1 is 10 ms of CPU time per 100 ms period. */
  cpus: number
  memoryMb: number
}

/** Render's free web service. */
export const FREE_TIER: BoxLimits = { cpus: 0.1, memoryMb: 512 }

export type CgroupVersion = 'v1' | 'v2'
export type BoxSupport = { ok: true; version: CgroupVersion } | { ok: false; reason: string }

export interface BoxStats {
  /** Highest memory use of the box (v1 max_usage_in_bytes, v2 memory.peak where the kernel has it). */
  memoryPeakBytes: number | undefined
  memoryCurrentBytes: number | undefined
  /** Processes the kernel's OOM killer ended inside the box. */
  oomKills: number
  /** CPU time used by everything in the box. */
  cpuUsageMicros: number | undefined
  /** Periods in which the box used its whole quota and waited. */
  throttledPeriods: number | undefined
}

const CFS_PERIOD_US = 100_000
const MB = 1024 * 1024

/** Where cgroups live; a parameter so tests can describe other machines. */
export interface CgroupFs {
  root: string
}
const SYSTEM: CgroupFs = { root: '/sys/fs/cgroup' }

const read = (path: string) => readFileSync(path, 'utf8').trim()
const readNumber = (path: string): number | undefined => {
  try {
    const value = Number(read(path))
    return Number.isFinite(value) ? value : undefined
  } catch {
    return undefined
  }
}
/** A value from a flat-keyed cgroup file (`cpu.stat`, `memory.events`, `memory.oom_control`). */
function readKey(path: string, key: string): number | undefined {
  try {
    for (const line of read(path).split('\n')) {
      const [name, value] = line.split(' ')
      if (name === key) return Number(value)
    }
  } catch {}
  return undefined
}

/** Which cgroup version this machine offers, or why a box cannot be made here. */
export function boxSupport(fs: CgroupFs = SYSTEM): BoxSupport {
  if (process.platform !== 'linux') {
    return { ok: false, reason: `cgroups are Linux-only (this is ${process.platform})` }
  }
  const { root } = fs
  if (existsSync(join(root, 'cgroup.controllers'))) {
    const controllers = read(join(root, 'cgroup.controllers')).split(' ')
    const missing = ['cpu', 'memory'].filter((c) => !controllers.includes(c))
    if (missing.length > 0) {
      return {
        ok: false,
        reason: `cgroup v2 at ${root} lacks the ${missing.join(' and ')} controller`,
      }
    }
    return writable(root, 'v2')
  }
  if (
    existsSync(join(root, 'cpu', 'cgroup.procs')) &&
    existsSync(join(root, 'memory', 'cgroup.procs'))
  ) {
    const cpu = writable(join(root, 'cpu'), 'v1')
    return cpu.ok ? writable(join(root, 'memory'), 'v1') : cpu
  }
  return { ok: false, reason: `no cgroup v2 or v1 cpu and memory hierarchies under ${root}` }
}

function writable(dir: string, version: CgroupVersion): BoxSupport {
  const probe = join(dir, `freetier-probe-${process.pid}`)
  try {
    mkdirSync(probe)
    rmdirSync(probe)
    return { ok: true, version }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return {
      ok: false,
      reason: `cannot create a cgroup under ${dir} (${code}): needs root or a delegated cgroup`,
    }
  }
}

let boxes = 0
const live = new Set<Box>()
process.once('exit', () => {
  for (const box of live) box.removeNow()
})

/** One cgroup (v2) or one cgroup per controller (v1), with the limits written. */
export class Box {
  readonly name: string
  readonly version: CgroupVersion
  readonly limits: BoxLimits
  /** The cgroup directories: one on v2; cpu, memory and (if mounted apart) cpuacct on v1. */
  readonly #dirs: { cpu: string; memory: string; cpuacct: string | undefined }

  private constructor(name: string, version: CgroupVersion, limits: BoxLimits, fs: CgroupFs) {
    this.name = name
    this.version = version
    this.limits = limits
    if (version === 'v2') {
      const dir = join(fs.root, name)
      this.#dirs = { cpu: dir, memory: dir, cpuacct: undefined }
    } else {
      const cpuacct = join(fs.root, 'cpuacct')
      const separate =
        existsSync(join(cpuacct, 'cpuacct.usage')) &&
        !existsSync(join(fs.root, 'cpu', 'cpuacct.usage'))
      this.#dirs = {
        cpu: join(fs.root, 'cpu', name),
        memory: join(fs.root, 'memory', name),
        cpuacct: separate ? join(cpuacct, name) : undefined,
      }
    }
  }

  /** Makes a box; throws with the reason where this machine cannot. */
  static create(limits: BoxLimits = FREE_TIER, fs: CgroupFs = SYSTEM): Box {
    if (!(limits.cpus > 0 && limits.cpus <= 64))
      throw new RangeError(`cpus must be in (0, 64], got ${limits.cpus}`)
    if (!(Number.isInteger(limits.memoryMb) && limits.memoryMb >= 16)) {
      throw new RangeError(`memoryMb must be an integer >= 16, got ${limits.memoryMb}`)
    }
    const support = boxSupport(fs)
    if (!support.ok) throw new Error(`cannot make a free-tier box: ${support.reason}`)
    const box = new Box(`freetier-box-${process.pid}-${++boxes}`, support.version, limits, fs)
    try {
      box.#write()
    } catch (error) {
      box.removeNow()
      throw error
    }
    live.add(box)
    return box
  }

  #write() {
    const quota = Math.round(this.limits.cpus * CFS_PERIOD_US)
    const bytes = String(this.limits.memoryMb * MB)
    const { cpu, memory, cpuacct } = this.#dirs
    if (this.version === 'v2') {
      // The parent must hand both controllers down (the root cgroup may, having no processes of
      // its own under the "no internal processes" rule).
      writeFileSync(join(cpu, '..', 'cgroup.subtree_control'), '+cpu +memory')
      mkdirSync(cpu)
      writeFileSync(join(cpu, 'cpu.max'), `${quota} ${CFS_PERIOD_US}`)
      writeFileSync(join(memory, 'memory.max'), bytes)
      // No swap: the platform has none, and swapping would hide the limit.
      if (existsSync(join(memory, 'memory.swap.max')))
        writeFileSync(join(memory, 'memory.swap.max'), '0')
      return
    }
    mkdirSync(cpu)
    mkdirSync(memory)
    if (cpuacct) mkdirSync(cpuacct)
    writeFileSync(join(cpu, 'cpu.cfs_period_us'), String(CFS_PERIOD_US))
    writeFileSync(join(cpu, 'cpu.cfs_quota_us'), String(quota))
    writeFileSync(join(memory, 'memory.limit_in_bytes'), bytes)
    const memsw = join(memory, 'memory.memsw.limit_in_bytes')
    if (existsSync(memsw)) writeFileSync(memsw, bytes)
  }

  /** The `cgroup.procs` files a process joins, one per hierarchy. */
  #procsFiles(): string[] {
    const { cpu, memory, cpuacct } = this.#dirs
    const dirs = this.version === 'v2' ? [cpu] : [cpu, memory, ...(cpuacct ? [cpuacct] : [])]
    return dirs.map((dir) => join(dir, 'cgroup.procs'))
  }

  /**
   * Starts a command inside the box: a shell joins the cgroups, then execs the command, so the
   * command and everything it starts are limited from their first instruction.
   */
  spawn(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    const files = this.#procsFiles()
    const script =
      'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"'
    return spawn(
      '/bin/sh',
      ['-c', script, 'freetier-box', String(files.length), ...files, command, ...args],
      options,
    )
  }

  /** Pids currently in the box. */
  pids(): number[] {
    try {
      return read(join(this.#dirs.memory, 'cgroup.procs')).split('\n').filter(Boolean).map(Number)
    } catch {
      return []
    }
  }

  stats(): BoxStats {
    const { cpu, memory, cpuacct } = this.#dirs
    if (this.version === 'v2') {
      const usage = readKey(join(cpu, 'cpu.stat'), 'usage_usec')
      return {
        memoryPeakBytes: readNumber(join(memory, 'memory.peak')),
        memoryCurrentBytes: readNumber(join(memory, 'memory.current')),
        oomKills: readKey(join(memory, 'memory.events'), 'oom_kill') ?? 0,
        cpuUsageMicros: usage,
        throttledPeriods: readKey(join(cpu, 'cpu.stat'), 'nr_throttled'),
      }
    }
    const usageNs = readNumber(join(cpuacct ?? cpu, 'cpuacct.usage'))
    return {
      memoryPeakBytes: readNumber(join(memory, 'memory.max_usage_in_bytes')),
      memoryCurrentBytes: readNumber(join(memory, 'memory.usage_in_bytes')),
      oomKills: readKey(join(memory, 'memory.oom_control'), 'oom_kill') ?? 0,
      cpuUsageMicros: usageNs === undefined ? undefined : Math.round(usageNs / 1000),
      throttledPeriods: readKey(join(cpu, 'cpu.stat'), 'nr_throttled'),
    }
  }

  /**
   * Removes the cgroups once the processes inside have exited (waits up to `waitMs`, then kills
   * what is left: only processes this box started can be in it).
   */
  async remove(waitMs = 5000): Promise<void> {
    const deadline = Date.now() + waitMs
    while (this.pids().length > 0 && Date.now() < deadline) await sleep(50)
    for (const pid of this.pids()) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
    // A process that has just exited can hold its cgroup busy a moment longer: retry the rmdir.
    while (!this.removeNow() && Date.now() < deadline + 2000) await sleep(50)
  }

  /**
   * Synchronous best effort: rmdir each cgroup (fails quietly while a process is still inside).
   * True when none is left.
   */
  removeNow(): boolean {
    const { cpu, memory, cpuacct } = this.#dirs
    let removed = true
    for (const dir of new Set([cpu, memory, ...(cpuacct ? [cpuacct] : [])])) {
      try {
        rmdirSync(dir)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') removed = false
      }
    }
    if (removed) live.delete(this)
    return removed
  }
}
