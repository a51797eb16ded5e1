import t from 'tap'
import { ENTRY_OVERHEAD_BYTES, L1Store } from '../src/cache/l1.js'

const entry = (text: string, tags: string[] = []) => ({
  text,
  bytes: Buffer.byteLength(text),
  tags,
  storedAt: Date.now(),
})

t.test(
  'tiny values: the count is bounded by the budget, each entry charged its overhead',
  async (t) => {
    const budget = 256 * 1024
    const l1 = new L1Store(budget)
    for (let i = 0; i < 10_000; i++) l1.set('queries', `k${i}`, entry('{}', ['all']), 60_000)
    const { entries, bytes } = l1.counters('queries')
    const most = Math.floor(budget / (2 + ENTRY_OVERHEAD_BYTES))
    t.ok(entries <= most, `${entries} entries <= ${most}`)
    t.ok(entries > most / 2, `the budget is used: ${entries} entries`)
    t.equal(bytes, entries * (2 + ENTRY_OVERHEAD_BYTES), 'bytes count text and overhead')
    t.equal(l1.bytes, bytes)
    t.ok(l1.bytes <= budget)
    t.equal(l1.get('queries', 'k9999')?.text, '{}', 'the newest entry stays')
    t.equal(l1.get('queries', 'k0'), undefined, 'the oldest was evicted')
    l1.deleteTag('queries', 'all')
    t.same(l1.counters('queries'), { entries: 0, bytes: 0, evictions: 10_000 - entries })
    t.equal(l1.bytes, 0)
  },
)

t.test('a value over an eighth of the budget, overhead included, is not kept', async (t) => {
  const budget = 64 * 1024
  const l1 = new L1Store(budget)
  const fits = 'x'.repeat(budget / 8 - ENTRY_OVERHEAD_BYTES)
  t.equal(l1.set('views', 'fits', entry(fits), 60_000), true)
  t.equal(l1.set('views', 'over', entry(`${fits}x`), 60_000), false)
  t.equal(l1.get('views', 'over'), undefined)
  t.equal(l1.counters('views').entries, 1)
})
