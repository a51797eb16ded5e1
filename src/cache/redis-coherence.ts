import type { Redis } from 'ioredis'
import { DependencyUnavailableError } from '../errors.js'
import type { RedisConnections } from '../plugins/redis.js'
import type { Trust } from './shared.js'

/**
 * One round trip, every CHECK_INTERVAL_MS: this instance's heartbeat (unless it has lost an
 * invalidation), Redis's clock, every instance's last heartbeat and each namespace's epoch.
 * KEYS: the instance set, then the epoch keys. ARGV: own id, '1' to heartbeat, set lifetime ms.
 */
const CHECK = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[2] == '1' then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
local result = { tostring(now), redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES') }
for i = 2, #KEYS do result[#result + 1] = redis.call('GET', KEYS[i]) or '0' end
return result`

interface CheckingRedis extends Redis {
  cacheCheck(
    numKeys: number,
    ...args: Array<string | number>
  ): Promise<[string, string[], ...string[]]>
}

interface EpochState {
  base: number
  heard: Set<number>
  gap: boolean
}

export interface CoherenceTiming {
  /** How often each instance heartbeats and reads the epochs. */
  checkMs: number
  /** A peer silent this long may have written without telling Redis: caches are not trusted. */
  silentMs: number
  /** A peer silent this long is forgotten (crashed, or gone without saying so). */
  forgetMs: number
  /** Redis's command timeout: how late a heartbeat that got no answer may still have landed. */
  commandTimeoutMs: number
}

/**
 * A heartbeat every half second; a peer is distrusted once it has missed about five in a row
 * (a process throttled to 0.1 CPU can be late by a second or two without being cut off).
 */
export const DEFAULT_TIMING = { checkMs: 500, silentMs: 3000, forgetMs: 30_000 } as const

/**
 * Alone (no peer seen) and unable to check: L1 entries are served for at most this long after
 * they were stored, in case a peer this instance has not met yet writes meanwhile.
 */
export const ALONE_DEGRADED_L1_MAX_AGE_MS = 5000

/** A heartbeat score that says "left cleanly": peers forget it without distrusting it. */
const LEFT = -1

export interface CoherenceOptions extends CoherenceTiming {
  client: Redis
  connections: RedisConnections
  /** The namespace names (asked once the cache has made them). */
  namespaces: () => readonly string[]
  epochKey: (namespace: string) => string
  /** True while some namespace here has an invalidation Redis did not get: no heartbeat. */
  dirty: () => boolean
  /** Every L1 entry may be stale (trust regained after a gap, or a lost message). */
  clearL1: (namespace?: string) => void
  /** Clears every namespace in Redis (a forgotten peer may have left stale values there). */
  clearL2: () => Promise<void>
  /** Monotonic milliseconds (tests inject a clock). */
  now?: () => number
}

/**
 * Decides whether this instance's caches may be trusted, so that no instance serves a value
 * older than a bounded time after any write, whichever connection was lost (docs/cache.md).
 *
 * Every instance heartbeats into one Redis sorted set and reads everyone's heartbeats with the
 * namespace epochs (bumped by every invalidation) in the same round trip. With peers:
 * - caches are trusted only until the earliest moment a peer could have started writing
 *   without Redis (its last heartbeat + silentMs, mapped to this clock) and while the
 *   invalidation channel is up; each check extends that lease;
 * - an epoch this instance has not heard of on its channel (a lost message) distrusts L1 at
 *   once and clears the namespace unless the message arrives by the next check;
 * - a writer whose invalidation cannot reach Redis stops heartbeating and waits (fence) until
 *   every peer's lease on it has run out before it answers: by then they read the database.
 * Alone (no peer has been seen), an outage only ages L1 out (the old behaviour).
 */
export class Coherence implements Trust {
  readonly #client: CheckingRedis
  readonly #now: () => number
  /** This clock's time until which caches are trusted (peers' leases). */
  #trustUntil = Number.NEGATIVE_INFINITY
  /** When the last heartbeat was sent (it may have landed up to a command timeout later). */
  #lastHeartbeatSent = Number.NEGATIVE_INFINITY
  /** Peers by id: their last heartbeat, in Redis's clock. */
  readonly #peers = new Map<string, number>()
  /** Per namespace: the epoch up to which every invalidation was heard, and those heard above. */
  readonly #epochs = new Map<string, EpochState>()
  #channelUp = false
  #checking = false
  readonly counts = { checks: 0, checkErrors: 0, lostMessages: 0, fences: 0, forgotten: 0 }

  constructor(private readonly options: CoherenceOptions) {
    options.client.defineCommand('cacheCheck', { lua: CHECK })
    this.#client = options.client as CheckingRedis
    this.#now = options.now ?? (() => performance.now())
  }

  get #membersKey() {
    return `${this.options.connections.prefix}:instances`
  }

  /** Peers have been seen: caches depend on their leases. */
  get shared(): boolean {
    return this.#peers.size > 0
  }

  /** L2 may be read and written: no peer can have written without telling Redis. */
  l2Trusted(): boolean {
    return !this.shared || this.#now() < this.#trustUntil
  }

  /** The L1-hit path asks this: cheap (a clock read and a map lookup). */
  l1MaxAgeMs(namespace: string): number {
    const trusted =
      this.#channelUp && this.#now() < this.#trustUntil && !this.#epochs.get(namespace)?.gap
    if (trusted) return Number.POSITIVE_INFINITY
    return this.shared ? 0 : ALONE_DEGRADED_L1_MAX_AGE_MS
  }

  set channelUp(up: boolean) {
    this.#channelUp = up
  }

  get channelUp(): boolean {
    return this.#channelUp
  }

  /** An invalidation with this epoch was heard (own write or a message from a peer). */
  #epoch(namespace: string): EpochState {
    let state = this.#epochs.get(namespace)
    if (!state) {
      state = { base: -1, heard: new Set(), gap: false }
      this.#epochs.set(namespace, state)
    }
    return state
  }

  heard(namespace: string, epoch: number): void {
    const state = this.#epoch(namespace)
    if (epoch <= state.base) return
    state.heard.add(epoch)
    if (state.gap && this.#complete(state, Math.max(...state.heard))) state.gap = false
  }

  #complete(state: { base: number; heard: Set<number> }, upTo: number): boolean {
    for (let e = state.base + 1; e <= upTo; e++) if (!state.heard.has(e)) return false
    return true
  }

  /** One heartbeat + read; called on a timer. Never throws. */
  async check(): Promise<void> {
    if (this.#checking) return
    // Not connected yet (or reconnecting): a command now would fail and open the breaker.
    if (this.options.client.status !== 'ready') {
      this.counts.checkErrors++
      return
    }
    this.#checking = true
    const sentAt = this.#now()
    const heartbeat = !this.options.dirty()
    try {
      if (heartbeat) this.#lastHeartbeatSent = sentAt
      const keys = [this.#membersKey, ...this.options.namespaces().map(this.options.epochKey)]
      const [nowText, members, ...epochs] = await this.options.connections.guard(() =>
        this.#client.cacheCheck(
          keys.length,
          ...keys,
          this.options.connections.instanceId,
          heartbeat ? '1' : '0',
          this.options.forgetMs * 2,
        ),
      )
      this.counts.checks++
      await this.#update(sentAt, Number(nowText), members, epochs.map(Number))
    } catch {
      this.counts.checkErrors++
    } finally {
      this.#checking = false
    }
  }

  async #update(sentAt: number, redisNow: number, members: string[], epochs: number[]) {
    const self = this.options.connections.instanceId
    const wasShared = this.shared
    for (let i = 0; i < members.length; i += 2) {
      const id = members[i] as string
      const seen = Number(members[i + 1])
      if (id === self) continue
      if (seen === LEFT) this.#peers.delete(id)
      else this.#peers.set(id, seen)
    }
    const { silentMs, forgetMs } = this.options
    let lease = silentMs
    const forget: string[] = []
    for (const [id, seen] of this.#peers) {
      const silent = redisNow - seen
      if (silent >= forgetMs) forget.push(id)
      lease = Math.min(lease, silentMs - silent)
    }
    if (forget.length > 0) {
      // They may have answered writes Redis never heard of: their stale values go first.
      await this.options.clearL2()
      await this.options.connections.guard(() => this.#client.zrem(this.#membersKey, ...forget))
      for (const id of forget) this.#peers.delete(id)
      this.counts.forgotten += forget.length
    }
    this.options.namespaces().forEach((ns, i) => {
      this.#checkEpoch(ns, epochs[i] ?? 0)
    })
    // Trusting again after a lapse, or a peer just met: invalidations may have been missed.
    if (this.shared && (!wasShared || this.#now() >= this.#trustUntil)) this.options.clearL1()
    this.#trustUntil = sentAt + lease
  }

  #checkEpoch(namespace: string, epoch: number) {
    const state = this.#epoch(namespace)
    if (state.base < 0 || epoch < state.base) {
      // First look, or Redis lost its data (restart): nothing to compare with.
      if (state.base >= 0) this.options.clearL1(namespace)
      state.base = epoch
      state.heard.clear()
      state.gap = false
      return
    }
    if (state.gap || !this.#complete(state, epoch)) {
      if (state.gap) {
        // Still unheard a whole check later: the message was lost.
        this.counts.lostMessages++
        this.options.clearL1(namespace)
        state.gap = false
      } else {
        state.gap = true
        return
      }
    }
    state.base = epoch
    for (const e of state.heard) if (e <= epoch) state.heard.delete(e)
  }

  /**
   * Resolves once this instance's write may be answered although its invalidation did not
   * reach Redis: when every peer's lease on this instance's last heartbeat has run out, so
   * they no longer trust their caches. At once when no peer was ever seen.
   */
  async fence(): Promise<void> {
    if (!this.shared) return
    this.counts.fences++
    const { commandTimeoutMs, silentMs, forgetMs } = this.options
    if (this.#now() - this.#lastHeartbeatSent > forgetMs / 2) {
      // Peers forget an instance silent for forgetMs and trust their caches again: from
      // well before then, this one cannot promise them anything.
      throw new DependencyUnavailableError(
        'redis',
        'the change is saved, but other instances cannot be told while Redis is unreachable',
      )
    }
    const until = this.#lastHeartbeatSent + commandTimeoutMs + silentMs
    const wait = until - this.#now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
  }

  /** A clean exit: peers forget this instance instead of distrusting it. */
  async leave(): Promise<void> {
    if (this.options.dirty()) return // they must distrust it, then forget it with a clear
    const { connections } = this
    await connections.guard(() => this.#client.zadd(this.#membersKey, LEFT, connections.instanceId))
  }

  get connections(): RedisConnections {
    return this.options.connections
  }

  stats() {
    return {
      peers: this.#peers.size,
      channel: this.#channelUp ? 'subscribed' : 'down',
      trustedForMs: Math.max(0, Math.round(this.#trustUntil - this.#now())),
      ...this.counts,
    }
  }
}
