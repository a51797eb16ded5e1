import { planMemory } from '../../src/memory.js'

/**
 * Leaks through the fixture server's /__test/leak until the live heap (measured after a full GC,
 * as the guard measures it) is above the leak guard's threshold for `limitMb`, then one step
 * more, not further: the heap limit itself is only ~25 MB above it. The extra step keeps the
 * heap above the threshold when something transient the measurement included is freed (a log
 * buffer waiting on a full stdout pipe, for one). The guard may fire and close the server
 * mid-loop, which ends the loop too.
 */
export async function leakPastGuard(url: string, limitMb: number): Promise<void> {
  const threshold = planMemory({ envLimitMb: limitMb }).leakHeapUsedBytes
  let stepsPast = 0
  for (let i = 0; i < 24 && stepsPast < 2; i++) {
    const res = await fetch(`${url}/__test/leak?mb=4`, { method: 'POST' }).catch(() => undefined)
    if (res?.status !== 200) break
    const { heapUsedBytes } = (await res.json()) as { heapUsedBytes: number }
    if (heapUsedBytes > threshold) stepsPast++
  }
}
