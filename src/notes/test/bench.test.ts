import t from 'tap'
import { makeNote, prng } from '../bench.js'

t.test('seeded notes are realistic and deterministic', async (t) => {
  t.same(makeNote(7), makeNote(7))
  t.not(makeNote(7).body, makeNote(8).body)
  const sizes = Array.from({ length: 200 }, (_, i) => Buffer.byteLength(makeNote(i).body))
  t.ok(Math.min(...sizes) >= 150, `smallest body ${Math.min(...sizes)} B`)
  t.ok(Math.max(...sizes) <= 8192, `largest body ${Math.max(...sizes)} B`)
  const all = Array.from({ length: 200 }, (_, i) => makeNote(i).body).join('\n')
  for (const feature of ['\n## ', '\n- ', '```', '](https://', '**', '<img', '\n> ']) {
    t.ok(all.includes(feature), `bodies use ${JSON.stringify(feature)}`)
  }
  for (let i = 0; i < 200; i++) {
    const { title } = makeNote(i)
    t.ok(title.length > 0 && title.length <= 200 && title.endsWith(`#${i}`), 'title')
  }
  const next = prng(1)
  const values = Array.from({ length: 1000 }, next)
  t.ok(
    values.every((v) => v >= 0 && v < 1),
    'prng stays in [0, 1)',
  )
  t.same(Array.from({ length: 1000 }, prng(1)), values, 'prng is deterministic per seed')
})
