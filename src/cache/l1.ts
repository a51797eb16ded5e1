import { LRUCache } from 'lru-cache'

export interface L1Entry {
  /** The value's text, as it is sent. */
  text: string
  /** UTF-8 bytes of the text (the byte budget counts them plus ENTRY_OVERHEAD_BYTES). */
  bytes: number
  tags: readonly string[]
  /** Date.now() when stored, to distrust old entries while invalidations cannot arrive. */
  storedAt: number
}

export interface L1Counters {
  entries: number
  bytes: number
  evictions: number
}

/**
 * What an entry holds besides its text, charged to the byte budget with it: its key, its record,
 * lru-cache's slots and the tag index, ~340-365 bytes of heap measured for a note's key. So the
 * budget bounds the heap entries take, and their count (at most budget / 384, however small
 * the values) without a `max`: lru-cache preallocates its slot arrays for `max`, which cost
 * ~10 ms of CPU at start for 32,768 slots (0.1 s of a cold start at 0.1 CPU).
 */
export const ENTRY_OVERHEAD_BYTES = 384

/** What an entry costs the byte budget. */
const charged = (entry: L1Entry) => entry.bytes + ENTRY_OVERHEAD_BYTES

const SEPARATOR = '\u0000'
const fullKey = (namespace: string, key: string) => `${namespace}${SEPARATOR}${key}`
const namespaceOf = (full: string) => full.slice(0, full.indexOf(SEPARATOR))

/**
 * The in-process tier: one lru-cache shared by every namespace (so the byte budget is one number),
 * bounded by the bytes of its entries (text plus ENTRY_OVERHEAD_BYTES each), each entry with its
 * namespace's TTL. Keeps a tag index and per-namespace counters.
 */
export class L1Store {
  readonly #lru: LRUCache<string, L1Entry>
  readonly #tags = new Map<string, Set<string>>()
  readonly #counters = new Map<string, L1Counters>()

  constructor(readonly maxBytes: number) {
    this.#lru = new LRUCache<string, L1Entry>({
      maxSize: maxBytes,
      // One value may take at most an eighth of the budget; bigger ones are not kept in L1.
      maxEntrySize: Math.max(1, Math.floor(maxBytes / 8)),
      dispose: (entry, key, reason) => this.#forget(entry, key, reason),
    })
  }

  counters(namespace: string): L1Counters {
    let counters = this.#counters.get(namespace)
    if (!counters) {
      counters = { entries: 0, bytes: 0, evictions: 0 }
      this.#counters.set(namespace, counters)
    }
    return counters
  }

  get(namespace: string, key: string): L1Entry | undefined {
    return this.#lru.get(fullKey(namespace, key))
  }

  /** Stores unless the value is over the per-entry limit; returns whether it was stored. */
  set(namespace: string, key: string, entry: L1Entry, ttlMs: number): boolean {
    const size = charged(entry)
    if (size > this.#lru.maxEntrySize) return false
    const full = fullKey(namespace, key)
    this.#lru.set(full, entry, { ttl: ttlMs, size })
    if (!this.#lru.has(full)) return false
    const counters = this.counters(namespace)
    counters.entries++
    counters.bytes += size
    for (const tag of entry.tags) {
      const tagKey = fullKey(namespace, tag)
      let keys = this.#tags.get(tagKey)
      if (!keys) {
        keys = new Set()
        this.#tags.set(tagKey, keys)
      }
      keys.add(full)
    }
    return true
  }

  delete(namespace: string, key: string): void {
    this.#lru.delete(fullKey(namespace, key))
  }

  deleteTag(namespace: string, tag: string): void {
    const keys = this.#tags.get(fullKey(namespace, tag))
    if (!keys) return
    for (const full of [...keys]) this.#lru.delete(full)
    this.#tags.delete(fullKey(namespace, tag))
  }

  /** Walks every key of the namespace: meant for rare, administrative invalidations. */
  deletePrefix(namespace: string, prefix: string): void {
    const start = fullKey(namespace, prefix)
    for (const full of [...this.#lru.keys()]) if (full.startsWith(start)) this.#lru.delete(full)
  }

  clear(namespace?: string): void {
    if (namespace === undefined) {
      this.#lru.clear()
      return
    }
    this.deletePrefix(namespace, '')
  }

  /** Bytes the budget counts, across namespaces: text plus overhead (never above maxBytes). */
  get bytes(): number {
    return this.#lru.calculatedSize
  }

  #forget(entry: L1Entry, full: string, reason: LRUCache.DisposeReason) {
    const namespace = namespaceOf(full)
    const counters = this.counters(namespace)
    counters.entries--
    counters.bytes -= charged(entry)
    if (reason === 'evict') counters.evictions++
    for (const tag of entry.tags) {
      const tagKey = fullKey(namespace, tag)
      const keys = this.#tags.get(tagKey)
      keys?.delete(full)
      if (keys?.size === 0) this.#tags.delete(tagKey)
    }
  }
}
