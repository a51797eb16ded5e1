/** Thrown without touching Redis while the circuit is open. */
export class CircuitOpenError extends Error {
  constructor(readonly retryInMs: number) {
    super(`redis circuit open (next try in ${retryInMs}ms)`)
    this.name = 'CircuitOpenError'
  }
}

export type CircuitState = 'closed' | 'open' | 'half-open'

/**
 * A small circuit breaker: the first failure opens it for `openMs`, during which calls fail at
 * once; then one trial call goes through (half-open) while the others keep failing fast; its
 * success closes the circuit, its failure opens it again. So a dead or hung dependency costs one
 * request its timeout, then nothing until the next trial.
 */
export class CircuitBreaker {
  #state: CircuitState = 'closed'
  #openedAt = 0
  #trialInFlight = false
  #failures = 0
  #lastError: string | undefined

  constructor(
    private readonly openMs: number,
    /** Errors that prove the dependency answered (e.g. a Redis reply error) do not count. */
    private readonly counts: (error: unknown) => boolean = () => true,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): CircuitState {
    if (this.#state === 'open' && this.now() - this.#openedAt >= this.openMs) return 'half-open'
    return this.#state
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const state = this.state
    if (state === 'open' || (state === 'half-open' && this.#trialInFlight)) {
      throw new CircuitOpenError(Math.max(0, this.openMs - (this.now() - this.#openedAt)))
    }
    const trial = state === 'half-open'
    if (trial) this.#trialInFlight = true
    try {
      const result = await fn()
      this.#state = 'closed'
      return result
    } catch (error) {
      if (this.counts(error)) this.trip(error)
      else if (trial) this.#state = 'closed'
      throw error
    } finally {
      if (trial) this.#trialInFlight = false
    }
  }

  /** Opens the circuit now (a connection dropped, a command timed out). */
  trip(error: unknown): void {
    this.#failures++
    this.#lastError = error instanceof Error ? error.message : String(error)
    this.#state = 'open'
    this.#openedAt = this.now()
  }

  stats() {
    return { state: this.state, failures: this.#failures, lastError: this.#lastError }
  }
}
