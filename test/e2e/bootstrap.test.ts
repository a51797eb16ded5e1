import { readFileSync } from 'node:fs'
import t from 'tap'
import { describePlan, planMemory, v8Flags } from '../../src/memory.js'
import { getStatus } from '../helpers/http.js'
import { BOOTSTRAP, startProcess, startServer } from '../helpers/process.js'

const hasExecve = typeof (process as { execve?: unknown }).execve === 'function'
const MB = 1024 * 1024

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
  } catch {
    return []
  }
}

function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
}

t.test('bootstrap applies the plan: V8 heap limit matches MEMORY_LIMIT_MB=256', async (t) => {
  const proc = await startServer(t, { MEMORY_LIMIT_MB: '256' })
  const plan = planMemory({ envLimitMb: 256 })
  t.match(describePlan(plan), /^memory limit 256MB \(from MEMORY_LIMIT_MB\), old-space 128MB, /)
  t.equal(proc.lines[0], `freetier: ${describePlan(plan)}`, 'prints one plan line first')
  const status = await getStatus(proc.url)
  const limit = status.memory.heapSizeLimitBytes
  // V8's limit is old space plus the young generation (a few semi-spaces).
  t.ok(
    limit >= plan.oldSpaceMb * MB,
    `heap_size_limit ${limit / MB}MB >= old space ${plan.oldSpaceMb}MB`,
  )
  t.ok(
    limit <= (plan.oldSpaceMb + 3 * plan.semiSpaceMb) * MB,
    `heap_size_limit ${limit / MB}MB <= old space + 3 semi-spaces`,
  )
  t.match(
    proc.logs().find((l) => /ready \(after post-start gc\)/.test(String(l.msg))),
    { rssMb: Number },
  )

  const pid = proc.child.pid as number
  if (hasExecve) {
    t.match(
      cmdline(pid).join(' '),
      /--max-old-space-size=128 --max-semi-space-size=4 --min-semi-space-size=4 --expose-gc .*dist\/src\/server\.js/,
      'the bootstrap process became the server',
    )
    t.same(childPids(pid), [], 'exactly one resident process')
  } else {
    const children = childPids(pid)
    t.equal(children.length, 1, `no process.execve on Node ${process.version}: one child server`)
    t.match(
      cmdline(children[0] as number).join(' '),
      /--max-old-space-size=128 .*--expose-gc .*server\.js/,
    )
  }
})

t.test("with the plan's flags on its command line, the bootstrap is the server", async (t) => {
  // As render.yaml starts it: no second Node start, whatever the Node version.
  const plan = planMemory({ envLimitMb: 256 })
  const proc = await startProcess(t, { env: { MEMORY_LIMIT_MB: '256' }, nodeArgs: v8Flags(plan) })
  await proc.waitForLine(/"msg":"ready/)
  const pid = proc.child.pid as number
  t.equal(cmdline(pid).at(-1), BOOTSTRAP, 'the process still runs the bootstrap')
  t.same(childPids(pid), [], 'and started no other')
  const status = await getStatus(proc.url)
  t.ok(
    status.memory.heapSizeLimitBytes <= (plan.oldSpaceMb + 3 * plan.semiSpaceMb) * MB,
    "under the plan's heap limit",
  )
})

t.test(
  "flags for another limit: the bootstrap starts the server with the plan's own",
  async (t) => {
    const proc = await startProcess(t, {
      env: { MEMORY_LIMIT_MB: '256' },
      nodeArgs: v8Flags(planMemory({ envLimitMb: 512 })),
    })
    await proc.waitForLine(/"msg":"ready/)
    const status = await getStatus(proc.url)
    t.ok(
      status.memory.heapSizeLimitBytes < 256 * MB,
      `heap limit ${status.memory.heapSizeLimitBytes / MB}MB is the 256 MB plan's, not the 512 MB one's`,
    )
  },
)

t.test('SIGTERM through the bootstrap drains and exits 0', async (t) => {
  const proc = await startServer(t)
  proc.child.kill('SIGTERM')
  const { code } = await proc.waitForExit()
  t.equal(code, 0)
  t.ok(proc.lines.some((l) => /shutting down/.test(l)))
})

t.test('invalid environment stops the start with every problem listed', async (t) => {
  const proc = await startProcess(t, { env: { PORT: 'abc', MEMORY_LIMIT_MB: '-1' } })
  const { code } = await proc.waitForExit()
  t.equal(code, 1)
  const output = proc.lines.join('\n')
  t.match(output, /freetier: Invalid environment:/)
  t.match(output, /PORT: got "abc", expected must be integer/)
  t.match(output, /MEMORY_LIMIT_MB: got "-1", expected must be >= 64/)
  t.notMatch(output, /listening/)
})

t.test('production without DATABASE_URL names the variable', async (t) => {
  const proc = await startProcess(t, { env: { NODE_ENV: 'production', DATABASE_URL: '' } })
  t.equal((await proc.waitForExit()).code, 1)
  t.match(proc.lines.join('\n'), /DATABASE_URL: got nothing/)
})
