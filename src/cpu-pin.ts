import { readOptional } from './cgroup.js'

/**
 * Below one core of CPU quota, the process keeps every thread on one core. The quota is shared by
 * all the cores the process may run on, and nice (the workers' 19) orders threads on one core
 * only: a worker or one of V8's threads running on another core spends the quota beside the event
 * loop, in parallel, and leaves it about half. On one core the event loop gets the CPU first, as
 * the nice values say. A quota under one core gains nothing from a second core anyway.
 */
export type CorePin = { cpu: number } | { reason: string }

/** A kernel CPU list ("0-3,6", as in Cpus_allowed_list) as CPU numbers; [] when unreadable. */
export function parseCpuList(text: string | undefined): number[] {
  const cpus: number[] = []
  for (const part of text?.trim().split(',') ?? []) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part)
    if (!match) return []
    const first = Number(match[1])
    const last = match[2] === undefined ? first : Number(match[2])
    for (let cpu = first; cpu <= last; cpu++) cpus.push(cpu)
  }
  return cpus
}

/** Pure: the core to keep the process on, or why none. `current` is the CPU it runs on now. */
export function coreToPin(cpus: number, allowed: number[], current: number | undefined): CorePin {
  if (cpus >= 1) return { reason: `a quota of ${cpus} CPU: threads may run side by side` }
  if (allowed.length === 0) return { reason: 'the CPUs this process may use are unknown' }
  return {
    cpu: current !== undefined && allowed.includes(current) ? current : (allowed[0] as number),
  }
}

/** The CPUs this process may run on (Linux), else []. */
export function allowedCpus(status = readOptional('/proc/self/status')): number[] {
  return parseCpuList(/^Cpus_allowed_list:\s*(\S+)/m.exec(status ?? '')?.[1])
}

/** The CPU this thread last ran on (field 39 of /proc/self/stat), else undefined. */
function currentCpu(): number | undefined {
  const stat = readOptional('/proc/self/stat')
  if (stat === undefined) return undefined
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const cpu = Number(fields[36])
  return Number.isInteger(cpu) ? cpu : undefined
}

/**
 * Keeps every thread of this process, and every thread it starts later (threads inherit the
 * affinity of the thread that makes them), on one core when `cpus` is below one: util-linux's
 * `taskset -a -p`, since Node has no call for a thread's affinity. Resolves to the core, or why
 * the process was left as it was (not Linux, no taskset, a quota of a core or more).
 */
export async function pinToOneCore(cpus: number): Promise<CorePin> {
  const allowed = allowedCpus()
  const target = coreToPin(cpus, allowed, currentCpu())
  if ('reason' in target || allowed.length === 1) return target
  // Loaded here only: child_process costs ~5 ms of CPU to load, a process that pins pays it.
  const { spawn } = process.getBuiltinModule('node:child_process')
  const args = ['-a', '-p', '-c', String(target.cpu), String(process.pid)]
  const outcome = await new Promise<number | string>((resolve) => {
    const child = spawn('taskset', args, { stdio: 'ignore' })
    child.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
    child.on('exit', (code, signal) => resolve(code ?? String(signal)))
  })
  if (outcome === 'ENOENT') return { reason: 'taskset (util-linux) is not installed' }
  if (outcome !== 0) return { reason: `taskset ended with ${outcome}` }
  const now = allowedCpus()
  return now.length === 1 && now[0] === target.cpu
    ? target
    : { reason: `taskset left the process on CPUs ${now.join(',')}` }
}
