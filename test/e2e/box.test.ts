import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { Box, boxSupport } from '../../scripts/box.js'
import { ROOT } from '../helpers/process.js'

const memoryModule = pathToFileURL(join(ROOT, 'dist', 'src', 'memory.js')).href

t.test('boxSupport says why a box cannot be made', async (t) => {
  const empty = await mkdtemp(join(tmpdir(), 'freetier-nocgroup-'))
  t.teardown(() => rm(empty, { recursive: true, force: true }))
  const support = boxSupport({ root: empty })
  t.equal(support.ok, false)
  if (!support.ok) t.match(support.reason, /no cgroup v2 or v1 cpu and memory hierarchies/)
  t.throws(() => Box.create({ cpus: 0, memoryMb: 512 }), RangeError)
  t.throws(() => Box.create({ cpus: 0.1, memoryMb: 1.5 }), RangeError)
})

const support = boxSupport()
t.test(
  'a process in the box lives within its limits',
  { skip: support.ok ? false : support.reason },
  async (t) => {
    t.test('the memory plan reads the limit from its own cgroup', async (t) => {
      const box = Box.create({ cpus: 0.5, memoryMb: 192 })
      t.teardown(() => box.remove())
      const script = `import(${JSON.stringify(memoryModule)}).then((m) => {
      const plan = m.planMemory(m.readLimitInputs(undefined))
      process.stdout.write(JSON.stringify({ source: plan.source, limitMb: plan.limitMb }))
    })`
      const child = box.spawn(process.execPath, ['-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      let out = ''
      child.stdout?.on('data', (chunk) => (out += chunk))
      const [code] = await once(child, 'exit')
      t.equal(code, 0)
      t.same(JSON.parse(out), { source: `cgroup ${box.version}`, limitMb: 192 })
    })

    t.test('going over the memory limit is an OOM kill the box counts', async (t) => {
      const box = Box.create({ cpus: 0.5, memoryMb: 64 })
      t.teardown(() => box.remove())
      const hog =
        'const kept = []; for (let i = 0; i < 64; i++) kept.push(Buffer.alloc(4 << 20, 1))'
      const child = box.spawn(process.execPath, ['-e', hog], { stdio: 'ignore' })
      const [code, signal] = await once(child, 'exit')
      t.same([code, signal], [null, 'SIGKILL'])
      const stats = box.stats()
      t.ok(stats.oomKills >= 1, `oom kills: ${stats.oomKills}`)
      t.ok((stats.memoryPeakBytes ?? 0) <= 64 * 1024 * 1024, 'peak within the limit')
    })

    t.test('remove() leaves no cgroup behind', async (t) => {
      const box = Box.create({ cpus: 0.1, memoryMb: 64 })
      const child = box.spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
        stdio: 'ignore',
      })
      await once(child, 'spawn')
      while (box.pids().length === 0) await new Promise((r) => setTimeout(r, 20))
      const exited = once(child, 'exit')
      await box.remove(0)
      await exited
      t.same(box.pids(), [])
      const dirs =
        support.ok && support.version === 'v2'
          ? [join('/sys/fs/cgroup', box.name)]
          : ['cpu', 'memory'].map((c) => join('/sys/fs/cgroup', c, box.name))
      for (const dir of dirs) t.notOk(existsSync(dir), `${dir} removed`)
    })
  },
)
