import type { Redis } from 'ioredis'
import type { RedisConnections } from '../plugins/redis.js'
import type { Invalidation, SharedStore } from './shared.js'

/**
 * Stores only if the namespace's epoch is still the one read before the value was loaded: a
 * write that invalidated in between bumped it, so a value loaded from before that write is not
 * cached. KEYS: data key, epoch key, tag sets. ARGV: value, ttl ms, epoch read.
 */
const STORE = `
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
for i = 3, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  redis.call('PEXPIRE', KEYS[i], ARGV[2])
end
return 1`

/**
 * Bumps the epoch, deletes the keys, and every key of each tag set with the set itself; returns
 * the new epoch. KEYS: epoch key, then ARGV[1] data keys, then tag sets. ARGV[2]: epoch
 * lifetime in ms.
 */
const INVALIDATE = `
local epoch = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local dataKeys = tonumber(ARGV[1])
for i = 2, #KEYS do
  if i <= dataKeys + 1 then
    redis.call('UNLINK', KEYS[i])
  else
    for _, member in ipairs(redis.call('SMEMBERS', KEYS[i])) do redis.call('UNLINK', member) end
    redis.call('UNLINK', KEYS[i])
  end
end
return epoch`

interface ScriptedRedis extends Redis {
  cacheStore(numKeys: number, ...args: Array<string | number>): Promise<number>
  cacheInvalidate(numKeys: number, ...args: Array<string | number>): Promise<number>
}

const SCAN_COUNT = 500
/**
 * The epoch outlives any load by far (it only has to span one load), yet does not stay in
 * Redis forever once a namespace stops being written.
 */
const EPOCH_TTL_MS = 24 * 60 * 60 * 1000
const escapeGlob = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&')

/**
 * The shared tier: Redis, every call behind the connection factory's circuit breaker. Keys are
 * `<prefix>:<namespace>:k:<key>`, tag sets `<prefix>:<namespace>:t:<tag>`, and one epoch
 * counter per namespace orders loads against invalidations.
 */
export class RedisL2 implements SharedStore {
  readonly #client: ScriptedRedis

  constructor(
    client: Redis,
    private readonly connections: RedisConnections,
  ) {
    client.defineCommand('cacheStore', { lua: STORE })
    client.defineCommand('cacheInvalidate', { lua: INVALIDATE })
    this.#client = client as ScriptedRedis
  }

  get client(): Redis {
    return this.#client
  }

  usable(): boolean {
    return this.connections.usable(this.#client)
  }

  #base(namespace: string) {
    return `${this.connections.prefix}:${namespace}`
  }

  dataKey(namespace: string, key: string) {
    return `${this.#base(namespace)}:k:${key}`
  }

  #tagKey(namespace: string, tag: string) {
    return `${this.#base(namespace)}:t:${tag}`
  }

  /** The namespace's invalidation counter (src/cache/redis-coherence.ts reads it too). */
  epochKey(namespace: string) {
    return `${this.#base(namespace)}:epoch`
  }

  /** The stored JSON (or null) and the namespace epoch to hand back to `set`. */
  async get(namespace: string, key: string): Promise<{ raw: string | null; epoch: string }> {
    const [raw, epoch] = await this.connections.guard(() =>
      this.#client.mget(this.dataKey(namespace, key), this.epochKey(namespace)),
    )
    return { raw: raw ?? null, epoch: epoch ?? '' }
  }

  /** Returns false when an invalidation since `epoch` made the value unsafe to store. */
  async set(
    namespace: string,
    key: string,
    raw: string,
    ttlMs: number,
    tags: readonly string[],
    epoch: string,
  ): Promise<boolean> {
    const keys = [
      this.dataKey(namespace, key),
      this.epochKey(namespace),
      ...tags.map((t) => this.#tagKey(namespace, t)),
    ]
    const stored = await this.connections.guard(() =>
      this.#client.cacheStore(keys.length, ...keys, raw, ttlMs, epoch),
    )
    return stored === 1
  }

  async invalidate(namespace: string, what: Invalidation): Promise<number> {
    const dataKeys = (what.keys ?? []).map((k) => this.dataKey(namespace, k))
    const keys = [
      this.epochKey(namespace),
      ...dataKeys,
      ...(what.tags ?? []).map((t) => this.#tagKey(namespace, t)),
    ]
    const epoch = await this.connections.guard(() =>
      this.#client.cacheInvalidate(keys.length, ...keys, dataKeys.length, EPOCH_TTL_MS),
    )
    for (const prefix of what.prefixes ?? []) {
      await this.#deleteMatching(`${escapeGlob(this.dataKey(namespace, prefix))}*`)
    }
    return epoch
  }

  async clear(namespace: string): Promise<number> {
    const epoch = await this.connections.guard(() =>
      this.#client.cacheInvalidate(1, this.epochKey(namespace), 0, EPOCH_TTL_MS),
    )
    await this.#deleteMatching(`${escapeGlob(this.#base(namespace))}:[kt]:*`)
    return epoch
  }

  /** SCAN + UNLINK: proportional to the keys in Redis, so only for prefixes and recovery. */
  async #deleteMatching(pattern: string): Promise<void> {
    let cursor = '0'
    do {
      const [next, found] = await this.connections.guard(() =>
        this.#client.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT),
      )
      if (found.length > 0) await this.connections.guard(() => this.#client.unlink(...found))
      cursor = next
    } while (cursor !== '0')
  }
}
