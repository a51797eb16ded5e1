import type { FastifyBaseLogger } from 'fastify'
import type { L1Store } from './l1.js'
import type { Invalidation, InvalidationMessage, SharedStore, Trust } from './shared.js'

export type CacheSource = 'l1' | 'l2' | 'miss'

/** A cached value as it travels: its text, made once by the loader, and where it came from. */
export interface Cached {
  /** What the loader returned (e.g. the route's serialized JSON, or HTML): sent as it is. */
  text: string
  /** UTF-8 bytes of `text`: what a response will occupy (L1 counts them plus an entry's overhead). */
  bytes: number
  source: CacheSource
}

export interface LoadOptions {
  /** Tags to invalidate this entry by, besides its key (e.g. `notes:list`). */
  tags?: readonly string[]
}

export interface NamespaceOptions {
  name: string
  ttlSeconds: number
  /** null when CACHE_L1=false. */
  l1: L1Store | null
  /** null without a shared tier (Redis). */
  l2: SharedStore | null
  /** Serialized values above this are not stored in Redis. */
  l2MaxValueBytes: number
  /** null without a shared tier: a single instance's caches are always coherent. */
  trust: Trust | null
  /** Tells the other instances; rejects when Redis cannot. */
  publish: (message: InvalidationMessage) => Promise<void>
  log: FastifyBaseLogger
}

/**
 * One cache namespace (`views`, `queries`): get-or-load through L1 then L2 then the loader, with
 * one load per key at a time, and invalidation of L1, L2 and the other instances' L1.
 *
 * Values are text: the loader returns the value already serialized (a route uses
 * `reply.cacheText`, so the text is what its response schema makes), and that one string is
 * measured, kept in L1, written to Redis and sent, never parsed or serialized again.
 */
export class CacheNamespace {
  readonly name: string
  readonly ttlMs: number
  readonly #flights = new Map<string, Promise<Cached | undefined>>()
  /** Bumped by every invalidation; a load that saw another value does not store its result. */
  #generation = 0
  /** An invalidation could not reach Redis: L2 is not trusted until it has been cleared. */
  #l2Dirty = false
  #recovering: Promise<void> | undefined
  readonly #counts = {
    l1Hits: 0,
    l2Hits: 0,
    misses: 0,
    l1TooLarge: 0,
    l2Errors: 0,
    l2TooLarge: 0,
    l2Refused: 0,
  }

  constructor(private readonly options: NamespaceOptions) {
    this.name = options.name
    this.ttlMs = options.ttlSeconds * 1000
  }

  /**
   * The cached text for `key`, else what `load` returns (then cached), with where it came from.
   * A load that returns undefined (e.g. an unknown id) gives undefined and caches nothing.
   */
  getOrLoad(key: string, load: () => Promise<string>, options?: LoadOptions): Promise<Cached>
  getOrLoad(
    key: string,
    load: () => Promise<string | undefined>,
    options?: LoadOptions,
  ): Promise<Cached | undefined>
  getOrLoad(
    key: string,
    load: () => Promise<string | undefined>,
    options: LoadOptions = {},
  ): Promise<Cached | undefined> {
    const entry = this.options.l1?.get(this.name, key)
    if (entry && this.#fresh(entry.storedAt)) {
      this.#counts.l1Hits++
      return Promise.resolve({ text: entry.text, bytes: entry.bytes, source: 'l1' })
    }
    const inFlight = this.#flights.get(key)
    if (inFlight) return inFlight
    const flight = this.#fill(key, load, options.tags ?? []).finally(() => {
      if (this.#flights.get(key) === flight) this.#flights.delete(key)
    })
    this.#flights.set(key, flight)
    return flight
  }

  #fresh(storedAt: number): boolean {
    const maxAge = this.options.trust?.l1MaxAgeMs(this.name) ?? Number.POSITIVE_INFINITY
    return maxAge === Number.POSITIVE_INFINITY || Date.now() - storedAt < maxAge
  }

  async #fill(
    key: string,
    load: () => Promise<string | undefined>,
    tags: readonly string[],
  ): Promise<Cached | undefined> {
    const generation = this.#generation
    const { l2 } = this.options
    let epoch: string | undefined
    if (l2 && !this.#l2Dirty && l2.usable() && this.options.trust?.l2Trusted() !== false) {
      try {
        const found = await l2.get(this.name, key)
        epoch = found.epoch
        if (found.raw !== null) {
          const bytes = Buffer.byteLength(found.raw)
          this.#counts.l2Hits++
          this.#keep(key, found.raw, bytes, tags, generation)
          return { text: found.raw, bytes, source: 'l2' }
        }
      } catch (error) {
        this.#l2Failed(error, 'read')
      }
    }
    this.#counts.misses++
    const text = await load()
    if (text === undefined) return undefined
    const bytes = Buffer.byteLength(text)
    this.#keep(key, text, bytes, tags, generation)
    if (l2 && epoch !== undefined && generation === this.#generation) {
      if (bytes > this.options.l2MaxValueBytes) {
        this.#counts.l2TooLarge++
      } else {
        try {
          const stored = await l2.set(this.name, key, text, this.ttlMs, tags, epoch)
          if (!stored) this.#counts.l2Refused++
        } catch (error) {
          this.#l2Failed(error, 'write')
        }
      }
    }
    return { text, bytes, source: 'miss' }
  }

  /**
   * Into L1 unless an invalidation came in since the load began. A value over L1's per-entry
   * cap (an eighth of the budget) is not kept: it would evict many small ones; it is counted
   * (`l1.skippedTooLarge`), and concurrent readers of its key still share its one load.
   */
  #keep(key: string, text: string, bytes: number, tags: readonly string[], generation: number) {
    const { l1 } = this.options
    if (!l1 || generation !== this.#generation) return
    if (!l1.set(this.name, key, { text, bytes, tags, storedAt: Date.now() }, this.ttlMs)) {
      this.#counts.l1TooLarge++
    }
  }

  #l2Failed(error: unknown, during: string) {
    this.#counts.l2Errors++
    this.options.log.debug({ err: error, namespace: this.name }, `cache: redis ${during} failed`)
  }

  /**
   * Drops keys, tags and prefixes here, in Redis, and (over the channel) in every other
   * instance's L1. If Redis cannot take it, L2 is distrusted until recover(), and the answer
   * waits until no other instance trusts its caches (Trust.fence), which may reject (503).
   */
  async invalidate(what: Invalidation): Promise<void> {
    this.applyLocally(what)
    const { l2, trust } = this.options
    if (!l2) return
    try {
      if (this.#l2Dirty) await this.recover()
      const epoch = await l2.invalidate(this.name, what)
      trust?.heard(this.name, epoch)
      await this.options.publish({ namespace: this.name, epoch, ...what })
    } catch (error) {
      this.#markDirty(error)
      await trust?.fence()
    }
  }

  /** Applies an invalidation to this instance only (local writes, messages from others). */
  applyLocally(what: Invalidation & { all?: boolean }): void {
    this.#generation++
    this.#flights.clear()
    const { l1 } = this.options
    if (!l1) return
    if (what.all) l1.clear(this.name)
    for (const key of what.keys ?? []) l1.delete(this.name, key)
    for (const tag of what.tags ?? []) l1.deleteTag(this.name, tag)
    for (const prefix of what.prefixes ?? []) l1.deletePrefix(this.name, prefix)
  }

  #markDirty(error: unknown) {
    this.#counts.l2Errors++
    if (!this.#l2Dirty) {
      this.options.log.warn(
        { err: error, namespace: this.name },
        'cache: invalidation did not reach redis; L2 of this namespace is bypassed until it is cleared',
      )
    }
    this.#l2Dirty = true
  }

  /**
   * After lost invalidations: clears the namespace in Redis and tells the other instances to
   * clear their L1, then trusts L2 again. Safe to call often; no-op when nothing was lost.
   */
  recover(): Promise<void> {
    const { l2 } = this.options
    if (!this.#l2Dirty || !l2) return Promise.resolve()
    this.#recovering ??= (async () => {
      try {
        await this.#clearShared(l2)
        this.#l2Dirty = false
        this.options.log.info({ namespace: this.name }, 'cache: redis cleared; L2 trusted again')
      } finally {
        this.#recovering = undefined
      }
    })()
    return this.#recovering
  }

  /** Every key of the namespace, in Redis and in every L1 (a forgotten peer's writes). */
  async clearEverywhere(): Promise<void> {
    this.applyLocally({ all: true })
    if (this.options.l2) await this.#clearShared(this.options.l2)
  }

  async #clearShared(l2: SharedStore) {
    const epoch = await l2.clear(this.name)
    this.options.trust?.heard(this.name, epoch)
    await this.options.publish({ namespace: this.name, epoch, all: true })
  }

  get l2Dirty(): boolean {
    return this.#l2Dirty
  }

  stats() {
    const { l1, l2 } = this.options
    const counters = l1?.counters(this.name)
    const l2State = !l2
      ? 'disabled'
      : this.#l2Dirty
        ? 'bypassed'
        : this.options.trust?.l2Trusted() === false
          ? 'distrusted'
          : l2.usable()
            ? 'up'
            : 'down'
    return {
      ttlSeconds: this.ttlMs / 1000,
      hits: this.#counts.l1Hits + this.#counts.l2Hits,
      misses: this.#counts.misses,
      evictions: counters?.evictions ?? 0,
      l1: l1
        ? {
            enabled: true,
            hits: this.#counts.l1Hits,
            entries: counters?.entries ?? 0,
            bytes: counters?.bytes ?? 0,
            skippedTooLarge: this.#counts.l1TooLarge,
          }
        : { enabled: false },
      l2: {
        state: l2State,
        hits: this.#counts.l2Hits,
        errors: this.#counts.l2Errors,
        skippedTooLarge: this.#counts.l2TooLarge,
        refusedStale: this.#counts.l2Refused,
      },
    }
  }
}
