/**
 * What load shedding reads: RSS, heap in use and event-loop delay, sampled by one timer. The
 * delay is how late that timer ran: a loop that cannot get to a due timer cannot get to a
 * waiting request either. One wake-up per sample, where a delay histogram (perf_hooks'
 * monitorEventLoopDelay, as @fastify/under-pressure uses) wakes the process every 10 ms: ~5 ms of
 * CPU a second while idle, 5% of a 0.1-CPU box.
 */

export interface PressureLimits {
  /** 0: not checked. */
  maxRssBytes: number
  maxHeapUsedBytes: number
  maxEventLoopDelayMs: number
}

export interface PressureReadings {
  rssBytes: number
  heapUsedBytes: number
  /** How late the last sample ran, in ms. */
  eventLoopDelayMs: number
}

/** Why requests are shed: the dependency named in the 503, and what was over which limit. */
export interface Pressure {
  dependency: 'memory' | 'cpu'
  message: string
}

const MB = 1024 * 1024
const mb = (bytes: number) => `${Math.round(bytes / MB)} MB`

export class PressureGauge {
  #readings: PressureReadings = { rssBytes: 0, heapUsedBytes: 0, eventLoopDelayMs: 0 }
  #pressure: Pressure | undefined
  #due = 0

  constructor(
    readonly limits: PressureLimits,
    readonly intervalMs: number,
    private readonly readMemory: () => { rss: number; heapUsed: number },
    private readonly now: () => number = () => performance.now(),
  ) {
    this.start()
  }

  /**
   * Starts the schedule again from now: the next sample is due one interval later. Called when
   * the sampling timer starts, so the time before it (boot) is not counted as a late sample.
   */
  start(): void {
    this.#due = this.now() + this.intervalMs
  }

  /** Called by the sampling timer every intervalMs, the first one interval after `start`. */
  sample(): void {
    const at = this.now()
    const { rss, heapUsed } = this.readMemory()
    this.#readings = {
      rssBytes: rss,
      heapUsedBytes: heapUsed,
      eventLoopDelayMs: Math.max(0, at - this.#due),
    }
    this.#due = at + this.intervalMs
    this.#pressure = this.#over(this.#readings)
  }

  get readings(): Readonly<PressureReadings> {
    return this.#readings
  }

  /** Set while the last sample was over a limit: requests are shed until a sample is not. */
  get pressure(): Pressure | undefined {
    return this.#pressure
  }

  #over({ rssBytes, heapUsedBytes, eventLoopDelayMs }: PressureReadings): Pressure | undefined {
    const { maxRssBytes, maxHeapUsedBytes, maxEventLoopDelayMs } = this.limits
    if (maxEventLoopDelayMs > 0 && eventLoopDelayMs > maxEventLoopDelayMs) {
      return {
        dependency: 'cpu',
        message: `shedding load: event-loop delay ${Math.round(eventLoopDelayMs)} ms is over ${maxEventLoopDelayMs} ms`,
      }
    }
    if (maxHeapUsedBytes > 0 && heapUsedBytes > maxHeapUsedBytes) {
      return {
        dependency: 'memory',
        message: `shedding load: heap in use ${mb(heapUsedBytes)} is over ${mb(maxHeapUsedBytes)}`,
      }
    }
    if (maxRssBytes > 0 && rssBytes > maxRssBytes) {
      return {
        dependency: 'memory',
        message: `shedding load: RSS ${mb(rssBytes)} is over ${mb(maxRssBytes)}`,
      }
    }
    return undefined
  }
}
