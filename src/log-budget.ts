/**
 * At most one log line per key per interval; the others are counted, and the next line that goes
 * out carries how many were left out (`suppressed`). For lines that come with every request of a
 * kind under load (a dependency refusing): a line costs about as much CPU as answering the
 * refusal itself, and on 0.1 CPU that is the CPU that keeps /healthz answering.
 */
export class LogBudget {
  readonly #last = new Map<string, { at: number; suppressed: number }>()

  constructor(readonly intervalMs = 1000) {}

  /** undefined: leave this line out; else log it, with this many left out since the last one. */
  take(key: string, now = performance.now()): number | undefined {
    const last = this.#last.get(key)
    if (last !== undefined && now - last.at < this.intervalMs) {
      last.suppressed++
      return undefined
    }
    const suppressed = last?.suppressed ?? 0
    this.#last.set(key, { at: now, suppressed: 0 })
    return suppressed
  }
}
