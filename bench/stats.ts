/** Pure numbers: parsing /proc text and the arithmetic of the report. */

/** utime + stime in clock ticks from the text of /proc/<pid>/stat (fields 14 and 15). */
export function parseCpuTicks(statText: string): number {
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const rest = statText
    .slice(statText.lastIndexOf(')') + 2)
    .trim()
    .split(/\s+/)
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  const utime = Number(rest[11])
  const stime = Number(rest[12])
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`unexpected /proc/<pid>/stat contents: ${statText.slice(0, 80)}`)
  }
  return utime + stime
}

/** Parent pid (field 4) from the text of /proc/<pid>/stat. */
export function parseParentPid(statText: string): number {
  const rest = statText
    .slice(statText.lastIndexOf(')') + 2)
    .trim()
    .split(/\s+/)
  return Number(rest[1])
}

/** A `Vm*:   1234 kB` line of /proc/<pid>/status, in bytes; undefined when absent. */
export function parseStatusKb(statusText: string, field: 'VmRSS' | 'VmHWM'): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(statusText)
  return match ? Number(match[1]) * 1024 : undefined
}

export function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** a / b rounded to two decimals; undefined when either side is missing or b is 0. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || b === 0) return undefined
  return Math.round((a / b) * 100) / 100
}

export const MB = 1024 * 1024
export const toMb = (bytes: number) => Math.round((bytes / MB) * 10) / 10

/** Busy and total ticks of one CPU from the text of /proc/stat (`cpuN user nice system idle iowait ...`). */
export function parseCoreTicks(procStat: string, cpu: number): { busy: number; total: number } {
  const line = procStat.split('\n').find((l) => l.startsWith(`cpu${cpu} `))
  if (line === undefined) throw new Error(`no cpu${cpu} line in /proc/stat`)
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number)
  const total = fields.reduce((sum, n) => sum + n, 0)
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
  return { busy: total - idle, total }
}

/** Share of a CPU's time over a window spent on anything but `ownTicks` (other processes). */
export function otherShare(
  before: { busy: number; total: number },
  after: { busy: number; total: number },
  ownTicks: number,
): number | undefined {
  const total = after.total - before.total
  if (total <= 0) return undefined
  return Math.max(0, Math.round(((after.busy - before.busy - ownTicks) / total) * 100) / 100)
}
