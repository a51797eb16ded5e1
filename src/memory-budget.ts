import { getHeapStatistics } from 'node:v8'

/** What one holder (a request) has of the budget. */
export interface Lease {
  bytes: number
}

export interface MemoryBudgetStatus {
  maxBytes: number
  usedBytes: number
  /** The most held at once since start. */
  peakBytes: number
  /** Requests refused because their bytes did not fit (or the heap was past its threshold). */
  refused: number
}

/**
 * The budget for work in flight, in bytes (the memory plan's `inFlightBytes`): each holder
 * grows its lease before it allocates (checked) and shrinks or releases it when done (always
 * allowed). Growth is refused when the bytes do not fit, or when the heap in use right now plus
 * them passes `heapThresholdBytes` (read at the moment, not sampled), except for a holder that
 * would be alone: one request always goes, so nothing is refused forever.
 */
export class MemoryBudget {
  #used = 0
  #peak = 0
  #refused = 0

  constructor(
    readonly maxBytes: number,
    readonly heapThresholdBytes: number,
    readonly heapUsed: () => number = () => getHeapStatistics().used_heap_size,
  ) {}

  /** Sets the lease to `bytes`; false (and nothing changed) when growing it does not fit. */
  resize(lease: Lease, bytes: number): boolean {
    const growth = bytes - lease.bytes
    if (growth > 0 && this.#used > lease.bytes) {
      const fits =
        this.#used + growth <= this.maxBytes && this.heapUsed() + growth <= this.heapThresholdBytes
      if (!fits) {
        this.#refused++
        return false
      }
    }
    this.#used += growth
    lease.bytes = bytes
    this.#peak = Math.max(this.#peak, this.#used)
    return true
  }

  release(lease: Lease): void {
    this.resize(lease, 0)
  }

  status(): MemoryBudgetStatus {
    return {
      maxBytes: this.maxBytes,
      usedBytes: this.#used,
      peakBytes: this.#peak,
      refused: this.#refused,
    }
  }
}
