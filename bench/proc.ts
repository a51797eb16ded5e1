import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { parseCoreTicks, parseCpuTicks, parseParentPid, parseStatusKb } from './stats.js'

/** Reading processes from /proc (Linux only, like the platform). */

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

let clockTicks: number | undefined
/** USER_HZ, the unit of /proc/<pid>/stat CPU times (100 almost everywhere). */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clockTicks = 100
    }
  }
  return clockTicks
}

/** The pid and every descendant (the bootstrap and, on Node < 22.15, the server it spawned). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = read(`/proc/${entry}/stat`)
    if (stat === undefined) continue
    const parent = parseParentPid(stat)
    const list = children.get(parent) ?? []
    list.push(Number(entry))
    children.set(parent, list)
  }
  const tree: number[] = []
  const walk = (pid: number) => {
    tree.push(pid)
    for (const child of children.get(pid) ?? []) walk(child)
  }
  walk(root)
  return tree
}

/** Sum of utime+stime ticks over the pids that still exist. */
export function cpuTicks(pids: number[]): number {
  let total = 0
  for (const pid of pids) {
    const stat = read(`/proc/${pid}/stat`)
    if (stat !== undefined) total += parseCpuTicks(stat)
  }
  return total
}

export interface Rss {
  /** Every process of the tree: what the container's memory limit counts. */
  tree: number
  /** The server process alone (the last of the tree: the one running the app). */
  server: number
  /** VmHWM of the server process: its peak RSS so far, including every thread. */
  serverPeak: number
}

export function rss(pids: number[]): Rss | undefined {
  let tree = 0
  let server = 0
  let serverPeak = 0
  let seen = false
  for (const pid of pids) {
    const status = read(`/proc/${pid}/status`)
    if (status === undefined) continue
    seen = true
    server = parseStatusKb(status, 'VmRSS') ?? 0
    serverPeak = parseStatusKb(status, 'VmHWM') ?? 0
    tree += server
  }
  return seen ? { tree, server, serverPeak } : undefined
}

/** Whether `taskset` can pin a process here (it needs util-linux and at least 2 CPUs). */
export function canPin(cpus: number): { ok: boolean; reason?: string } {
  if (cpus < 2) return { ok: false, reason: `only ${cpus} CPU: server and load generator share it` }
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' })
    return { ok: true }
  } catch {
    return { ok: false, reason: 'taskset not found (util-linux): processes are not pinned' }
  }
}

/** Busy/total ticks of a CPU since boot (for how much of the server's CPU others took). */
export function coreTicks(cpu: number): { busy: number; total: number } | undefined {
  const text = read('/proc/stat')
  return text === undefined ? undefined : parseCoreTicks(text, cpu)
}
