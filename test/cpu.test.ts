import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { parseCpuMax, readCpuQuota, WORKER_THREADS_DEFAULT, workerThreadsFor } from '../src/cpu.js'

/** A cgroup tree in a temp dir: `files` maps paths under the root to their contents. */
function machine(t: Test, procCgroup: string, files: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), 'cpu-quota-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  writeFileSync(join(root, 'proc-self-cgroup'), procCgroup)
  return (cores = 2) => readCpuQuota(root, join(root, 'proc-self-cgroup'), cores)
}

t.test('cpu.max: quota over period, "max" is none', async (t) => {
  t.equal(parseCpuMax('10000 100000\n'), 0.1)
  t.equal(parseCpuMax('150000 100000'), 1.5)
  t.equal(parseCpuMax('max 100000'), undefined)
  t.equal(parseCpuMax('garbage'), undefined)
  t.equal(parseCpuMax(undefined), undefined)
})

t.test('the free tier under cgroup v2 and v1, nested quotas and none', async (t) => {
  const v2 = machine(t, '0::/app\n', {
    'cpu.max': 'max 100000',
    'app/cpu.max': '10000 100000',
  })
  t.same(v2(), { cpus: 0.1, source: 'cgroup v2' })

  const v1 = machine(t, '4:memory:/m\n3:cpu,cpuacct:/box\n0::/\n', {
    'cpu/cpu.cfs_quota_us': '-1',
    'cpu/cpu.cfs_period_us': '100000',
    'cpu/box/cpu.cfs_quota_us': '10000\n',
    'cpu/box/cpu.cfs_period_us': '100000\n',
  })
  t.same(v1(), { cpus: 0.1, source: 'cgroup v1' })

  const parent = machine(t, '0::/outer/inner\n', {
    'outer/cpu.max': '50000 100000',
    'outer/inner/cpu.max': 'max 100000',
  })
  t.same(parent(), { cpus: 0.5, source: 'cgroup v2' }, "a parent's quota binds its children")

  const none = machine(t, '0::/\n', { 'cpu.max': 'max 100000' })
  t.same(none(4), { cpus: 4, source: 'cores' }, 'no quota: the cores it may run on')
  const wide = machine(t, '0::/\n', { 'cpu.max': '800000 100000' })
  t.same(wide(2), { cpus: 2, source: 'cores' }, 'a quota above the cores is the cores')
  t.same(machine(t, '', {})(3), { cpus: 3, source: 'cores' }, 'no cgroup files at all')
})

t.test('one worker thread below one core, two from one core up', async (t) => {
  t.equal(workerThreadsFor(0.1), 1)
  t.equal(workerThreadsFor(0.99), 1)
  t.equal(workerThreadsFor(1), WORKER_THREADS_DEFAULT)
  t.equal(workerThreadsFor(8), WORKER_THREADS_DEFAULT)
})
