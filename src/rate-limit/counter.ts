/** What one request learns from the counters. */
export interface Hit {
  /** Requests from this client in the current window, as far as this instance knows. */
  count: number
  /** True when `count` is over the limit: the request gets 429. */
  limited: boolean
  /** Requests left in the window (never below 0). */
  remaining: number
  /** Milliseconds until the window ends and the count starts again. */
  resetInMs: number
}

/** The counts to add to the shared totals: one entry per client key. */
export interface Batch {
  window: number
  keys: string[]
  counts: number[]
}

interface Entry {
  /** The shared total (every instance's requests) as last read back from the store. */
  shared: number
  /** Counted here and sent to the store, not yet answered. */
  sending: number
  /** Counted here since the last batch was taken. */
  pending: number
}

/**
 * Fixed-window request counters per client key that count locally and sync with a shared store.
 * Windows are aligned to the clock (window n covers [n·windowMs, (n+1)·windowMs)), so every
 * instance agrees on them without talking. A request only touches memory; `takeBatch` hands out
 * what was counted since the last one, and `settle` adopts the totals the store answered, which
 * include every other instance's requests. While the store is unreachable the local counts keep
 * growing, so the limit still holds per instance.
 */
export class WindowCounters {
  #window = Number.NaN
  #entries = new Map<string, Entry>()

  constructor(
    readonly max: number,
    readonly windowMs: number,
    /** Distinct clients remembered per window; the oldest is forgotten beyond it. */
    readonly maxKeys: number,
    private readonly now: () => number = Date.now,
  ) {}

  hit(key: string): Hit {
    const now = this.now()
    const window = Math.floor(now / this.windowMs)
    if (window !== this.#window) {
      // A new window: every count starts again (unsent counts of the old one no longer matter).
      this.#entries.clear()
      this.#window = window
    }
    let entry = this.#entries.get(key)
    if (entry === undefined) {
      if (this.#entries.size >= this.maxKeys) {
        const oldest = this.#entries.keys().next().value as string
        this.#entries.delete(oldest)
      }
      entry = { shared: 0, sending: 0, pending: 0 }
      this.#entries.set(key, entry)
    }
    entry.pending++
    const count = entry.shared + entry.sending + entry.pending
    return {
      count,
      limited: count > this.max,
      remaining: Math.max(0, this.max - count),
      resetInMs: (window + 1) * this.windowMs - now,
    }
  }

  /** True when requests were counted since the last batch was taken. */
  get hasPending(): boolean {
    for (const entry of this.#entries.values()) if (entry.pending > 0) return true
    return false
  }

  /** Hands out what was counted since the last batch; `settle` must follow. */
  takeBatch(): Batch | undefined {
    const keys: string[] = []
    const counts: number[] = []
    for (const [key, entry] of this.#entries) {
      if (entry.pending === 0) continue
      keys.push(key)
      counts.push(entry.pending)
      entry.sending += entry.pending
      entry.pending = 0
    }
    return keys.length > 0 ? { window: this.#window, keys, counts } : undefined
  }

  /**
   * The store's answer to a batch: the new shared total per key (in the batch's order), or
   * undefined when it failed, in which case the counts go back to pending for the next batch.
   */
  settle(batch: Batch, totals: number[] | undefined): void {
    if (batch.window !== this.#window) return
    batch.keys.forEach((key, i) => {
      const entry = this.#entries.get(key)
      if (entry === undefined) return
      const sent = batch.counts[i] as number
      entry.sending -= sent
      if (totals === undefined) entry.pending += sent
      // Another batch for this key may be in flight; its count is not in this total yet.
      else entry.shared = Math.max(entry.shared, (totals[i] as number) - entry.sending)
    })
  }

  /** Milliseconds since the epoch at which the batch's window ends. */
  windowEnd(batch: Batch): number {
    return (batch.window + 1) * this.windowMs
  }

  get size(): number {
    return this.#entries.size
  }
}
