const UNIT_MS: Record<string, number> = {
  ms: 1,
  millisecond: 1,
  s: 1000,
  sec: 1000,
  second: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
}

/**
 * A duration as people write it in an environment variable: `1 minute`, `30 seconds`, `90s`,
 * `1.5h`, or a plain number of milliseconds. Undefined when it is not one.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  if (!match) return undefined
  const [, amount, written = ''] = match
  const unit = written.toLowerCase()
  // Plurals: `seconds`, `mins`; `ms` and `s` are units of their own.
  const factor = unit === '' ? 1 : (UNIT_MS[unit] ?? UNIT_MS[unit.replace(/s$/, '')])
  if (factor === undefined) return undefined
  const ms = Math.round(Number(amount) * factor)
  return ms > 0 ? ms : undefined
}
