import type { L1Store } from './l1.js'
import type { CacheNamespace } from './namespace.js'

/** What an invalidation drops: keys, every key with a tag, every key with a prefix. */
export interface Invalidation {
  keys?: readonly string[]
  tags?: readonly string[]
  prefixes?: readonly string[]
}

/** An invalidation as instances tell each other: one namespace's keys, or all of them. */
export type InvalidationMessage = Invalidation & {
  namespace: string
  all?: boolean
  /** The namespace epoch this invalidation made in the shared store (lost messages show). */
  epoch?: number
}

/** The shared store (L2): one for every instance. Its methods reject when it cannot answer. */
export interface SharedStore {
  /** False while it cannot be reached: reads and writes skip it. */
  usable(): boolean
  /** The stored text (or null) and the namespace epoch to hand back to `set`. */
  get(namespace: string, key: string): Promise<{ raw: string | null; epoch: string }>
  /** Returns false when an invalidation since `epoch` made the value unsafe to store. */
  set(
    namespace: string,
    key: string,
    raw: string,
    ttlMs: number,
    tags: readonly string[],
    epoch: string,
  ): Promise<boolean>
  /** Returns the namespace's new epoch. */
  invalidate(namespace: string, what: Invalidation): Promise<number>
  /** Drops every key of the namespace (after invalidations may have been lost); new epoch. */
  clear(namespace: string): Promise<number>
}

/** Whether this instance's caches may be trusted now, given what other instances may do. */
export interface Trust {
  /** How old an L1 entry may be and still be served: Infinity, 0 (not at all) or a bound. */
  l1MaxAgeMs(namespace: string): number
  /** The shared store may be read and written. */
  l2Trusted(): boolean
  /** This instance made (or heard of) the invalidation with this epoch. */
  heard(namespace: string, epoch: number): void
  /** Resolves when a write whose invalidation did not reach the store may be answered. */
  fence(): Promise<void>
}

/**
 * The tier the cache shares with other instances: a store, and a channel on which writes tell
 * every other instance's L1. The cache works without one (one instance, L1 only); a plugin
 * that provides one (src/plugins/redis-cache.ts) decorates `sharedCache`, and the cache plugin
 * calls it once it has made its namespaces.
 */
export interface SharedTier {
  store: SharedStore
  /** Tells the other instances; rejects when the channel cannot. */
  publish(message: InvalidationMessage): Promise<void>
  /** Coherence across instances and outages (src/cache/redis-coherence.ts for Redis). */
  trust: Trust
  /** For /status. */
  status(): {
    l2: Record<string, unknown>
    invalidation: string
    coherence?: Record<string, unknown>
  }
}

export type SharedTierFactory = (cache: {
  /** The namespaces (known once the cache has made them). */
  namespaces: () => readonly CacheNamespace[]
  l1: L1Store | null
}) => SharedTier

declare module 'fastify' {
  interface FastifyInstance {
    /** Present when a shared tier is registered (before the cache plugin). */
    sharedCache?: SharedTierFactory
  }
}
