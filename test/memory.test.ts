import { join } from 'node:path'
import t from 'tap'
import { ownCgroupPaths } from '../src/cgroup.js'
import {
  DEFAULT_LIMIT_MB,
  describePlan,
  parseCgroupBytes,
  parseLimitMb,
  planMemory,
  readLimitInputs,
} from '../src/memory.js'
import { ROOT } from './helpers/process.js'

const fixture = (name: string) => join(ROOT, 'test', 'fixtures', 'cgroup', name)
const MB = 1024 * 1024

t.test('512 MB plan matches the design table', async (t) => {
  const plan = planMemory({ envLimitMb: 512 })
  t.equal(plan.source, 'MEMORY_LIMIT_MB')
  t.equal(plan.oldSpaceMb, 256)
  t.equal(plan.semiSpaceMb, 8)
  t.equal(plan.workerHeapMb, 40)
  t.equal(plan.cacheBytes, 32 * MB)
  t.equal(Math.round(plan.shedRssBytes / MB), 435)
  t.equal(Math.round(plan.shedHeapUsedBytes / MB), 230)
  t.equal(Math.round(plan.leakHeapUsedBytes / MB), 205)
  t.same(plan.warnings, [])
  t.match(describePlan(plan), /memory limit 512MB \(from MEMORY_LIMIT_MB\), old-space 256MB/)
})

t.test('budgets keep their order and stay inside the limit at every size', async (t) => {
  for (const limitMb of [64, 128, 256, 384, 512, 1024, 4096, 65536]) {
    const plan = planMemory({ envLimitMb: limitMb })
    const budget = plan.oldSpaceMb + 3 * plan.semiSpaceMb
    t.ok(budget < limitMb, `${limitMb}: heap ${budget}MB under the limit`)
    t.ok(plan.leakHeapUsedBytes < plan.shedHeapUsedBytes, `${limitMb}: leak guard below shedding`)
    t.ok(plan.shedHeapUsedBytes < plan.oldSpaceMb * MB, `${limitMb}: heap shedding below old space`)
    t.ok(plan.shedRssBytes < limitMb * MB, `${limitMb}: RSS shedding below the limit`)
    t.ok(plan.semiSpaceMb >= 1 && plan.semiSpaceMb <= 8, `${limitMb}: semi-space small`)
    t.ok(plan.workerHeapMb >= 16, `${limitMb}: a worker heap V8 can run in`)
  }
  t.equal(planMemory({ envLimitMb: 128 }).semiSpaceMb, 2, 'tiny limits get a smaller young gen')
})

t.test('limit sources, first usable wins', async (t) => {
  t.equal(planMemory({ envLimitMb: 300, cgroupV2: '536870912' }).source, 'MEMORY_LIMIT_MB')
  t.same(
    [planMemory({ cgroupV2: '536870912\n', cgroupV1: '268435456' })].map((p) => [
      p.source,
      p.limitMb,
    ])[0],
    ['cgroup v2', 512],
  )
  t.same(
    [planMemory({ cgroupV2: 'max', cgroupV1: '268435456' })].map((p) => [p.source, p.limitMb])[0],
    ['cgroup v1', 256],
  )
  const constrained = planMemory({ constrainedBytes: 1024 * MB })
  t.equal(constrained.source, 'process.constrainedMemory')
  t.equal(constrained.limitMb, 1024)
})

t.test('"no limit" answers fall through to the default with a warning', async (t) => {
  // Node 20 answers UINT64_MAX from process.constrainedMemory() when there is no limit.
  const plan = planMemory({
    cgroupV2: 'max\n',
    cgroupV1: '9223372036854771712',
    constrainedBytes: 2 ** 64,
  })
  t.equal(plan.source, 'default')
  t.equal(plan.limitMb, DEFAULT_LIMIT_MB)
  t.match(plan.warnings.join('\n'), /no memory limit found; assuming 512 MB/)
  t.equal(planMemory({ constrainedBytes: 0 }).source, 'default', 'zero means unknown')
})

t.test('garbage and tiny values are ignored with a warning', async (t) => {
  const garbage = planMemory({ cgroupV2: 'lots of memory', cgroupV1: '-5' })
  t.equal(garbage.source, 'default')
  t.match(garbage.warnings.join('\n'), /cgroup v2 file holds "lots of memory"; ignored/)
  const tiny = planMemory({ cgroupV2: String(16 * MB) })
  t.equal(tiny.source, 'default')
  t.match(tiny.warnings.join('\n'), /cgroup v2 limit of 16 MB is below 64 MB; ignored/)
  t.equal(parseCgroupBytes(''), undefined)
  t.equal(parseCgroupBytes('1e9'), undefined)
  t.equal(parseCgroupBytes(' 1048576 \n'), 1048576)
})

t.test('reads cgroup fixture files', async (t) => {
  const cases: Array<[string, string, number]> = [
    ['v2-512m', 'cgroup v2', 512],
    ['v1-256m', 'cgroup v1', 256],
  ]
  for (const [dir, source, limitMb] of cases) {
    const inputs = readLimitInputs(undefined, fixture(dir))
    const plan = planMemory({ ...inputs, constrainedBytes: undefined })
    t.equal(plan.source, source, dir)
    t.equal(plan.limitMb, limitMb, dir)
  }
  for (const dir of ['v2-max', 'v2-garbage', 'v1-unlimited', 'v2-tiny', 'missing']) {
    const plan = planMemory({
      ...readLimitInputs(undefined, fixture(dir)),
      constrainedBytes: undefined,
    })
    t.equal(plan.source, 'default', dir)
  }
  t.equal(readLimitInputs(200, fixture('v2-512m')).envLimitMb, 200)
})

t.test("reads the limit of this process's own cgroup, the tightest up to the root", async (t) => {
  const nested = (dir: string) => {
    const inputs = readLimitInputs(undefined, fixture(dir), join(fixture(dir), 'proc-self-cgroup'))
    const plan = planMemory({ ...inputs, constrainedBytes: undefined })
    return [plan.source, plan.limitMb]
  }
  t.same(nested('v1-nested'), ['cgroup v1', 256], 'v1: the box below the root')
  t.same(nested('v2-nested'), ['cgroup v2', 512], "v2: a parent's limit binds the child")
  t.same(ownCgroupPaths('12:memory,foo:/a/b\n0::/c\n', 'memory'), { v1: '/a/b', v2: '/c' })
  t.same(ownCgroupPaths(undefined, 'memory'), { v1: '/', v2: '/' })
})

t.test('the bootstrap reads MEMORY_LIMIT_MB by the same rule as config', async (t) => {
  const { loadConfig } = await import('../src/config.js')
  for (const raw of ['512', '64', '63', '-1', 'abc', '1048576', '1048577', '12.5', '']) {
    const parsed = parseLimitMb(raw)
    let accepted: number | undefined
    try {
      accepted = loadConfig({ MEMORY_LIMIT_MB: raw }).MEMORY_LIMIT_MB
    } catch {
      accepted = -1
    }
    t.equal(parsed === 'invalid' ? -1 : parsed, accepted, `MEMORY_LIMIT_MB=${JSON.stringify(raw)}`)
  }
  t.equal(parseLimitMb(undefined), undefined)
})
