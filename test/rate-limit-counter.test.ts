import t from 'tap'
import { parseDuration } from '../src/duration.js'
import { clientKey } from '../src/rate-limit/client-key.js'
import { WindowCounters } from '../src/rate-limit/counter.js'

function counters(max = 3, windowMs = 60_000, maxKeys = 100) {
  const clock = { now: 120_000 }
  return { clock, counters: new WindowCounters(max, windowMs, maxKeys, () => clock.now) }
}

t.test('counts per key within a clock-aligned window', async (t) => {
  const { clock, counters: c } = counters()
  t.match(c.hit('a'), { count: 1, limited: false, remaining: 2, resetInMs: 60_000 })
  c.hit('a')
  clock.now += 1_500
  t.match(c.hit('a'), { count: 3, limited: false, remaining: 0, resetInMs: 58_500 })
  t.match(c.hit('a'), { count: 4, limited: true, remaining: 0 })
  t.match(c.hit('b'), { count: 1, limited: false }, 'another key has its own count')
  clock.now = 180_000
  t.match(
    c.hit('a'),
    { count: 1, limited: false, resetInMs: 60_000 },
    'the next window starts at 0',
  )
})

t.test('a sync adopts the shared total, which includes other instances', async (t) => {
  const { counters: c } = counters(10)
  c.hit('a')
  c.hit('a')
  const batch = c.takeBatch()
  t.match(batch, { keys: ['a'], counts: [2] })
  t.equal(c.takeBatch(), undefined, 'nothing new to send')
  t.match(c.hit('a'), { count: 3 }, 'counts in flight still count')
  // Another instance counted 5: the store answers 2 + 5 = 7.
  c.settle(batch as NonNullable<typeof batch>, [7])
  t.match(c.hit('a'), { count: 9, remaining: 1 }, '7 shared + 2 counted here since')
  const next = c.takeBatch()
  t.match(next, { keys: ['a'], counts: [2] })
  c.settle(next as NonNullable<typeof next>, [11])
  t.match(c.hit('a'), { count: 12, limited: true })
})

t.test(
  'a failed sync keeps the counts for the next one: the local limit still holds',
  async (t) => {
    const { counters: c } = counters(3)
    c.hit('a')
    c.hit('a')
    const batch = c.takeBatch()
    c.settle(batch as NonNullable<typeof batch>, undefined)
    t.ok(c.hasPending)
    t.match(c.hit('a'), { count: 3, limited: false })
    t.match(c.hit('a'), { count: 4, limited: true })
    t.match(c.takeBatch(), { keys: ['a'], counts: [4] }, 'everything counted goes in the next sync')
  },
)

t.test('an answer for a window that ended is ignored', async (t) => {
  const { clock, counters: c } = counters(3, 1000)
  c.hit('a')
  const batch = c.takeBatch()
  clock.now += 1000
  c.hit('a')
  c.settle(batch as NonNullable<typeof batch>, [50])
  t.match(c.hit('a'), { count: 2, limited: false })
})

t.test('remembers at most maxKeys clients, forgetting the oldest', async (t) => {
  const { counters: c } = counters(3, 60_000, 2)
  c.hit('a')
  c.hit('b')
  c.hit('c')
  t.equal(c.size, 2)
  t.match(c.hit('a'), { count: 1 }, 'a was forgotten')
})

t.test('client keys: IPv4 as is, IPv6 by /64, mapped IPv4 as IPv4', async (t) => {
  t.equal(clientKey('203.0.113.7'), '203.0.113.7')
  t.equal(clientKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64')
  t.equal(clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64', 'same /64')
  t.equal(clientKey('2001:DB8:1:3::1'), '2001:db8:1:3::/64', 'another /64')
  t.equal(clientKey('::1'), '0:0:0:0::/64')
  t.equal(clientKey('::ffff:198.51.100.4'), '198.51.100.4')
  t.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64')
})

t.test('durations as written in the environment', async (t) => {
  t.equal(parseDuration('1 minute'), 60_000)
  t.equal(parseDuration('30 seconds'), 30_000)
  t.equal(parseDuration('90s'), 90_000)
  t.equal(parseDuration('250 ms'), 250)
  t.equal(parseDuration('1.5h'), 5_400_000)
  t.equal(parseDuration('2 mins'), 120_000)
  t.equal(parseDuration('5000'), 5000)
  for (const bad of ['', 'soon', '1 fortnight', '-5 s', '0']) t.equal(parseDuration(bad), undefined)
})
