import { join } from 'node:path'
import type { Test } from 'tap'
import { processTree, rss } from '../../bench/proc.js'
import { Box, boxSupport } from '../../scripts/box.js'
import { planMemory, v8Flags } from '../../src/memory.js'
import { testDatabase } from '../helpers/database.js'
import { collectLines, freePort, ROOT } from '../helpers/process.js'
import { waitFor } from '../helpers/workers.js'
import { get } from './load.js'

/**
 * Whether this machine can make a box (Linux, root or a delegated cgroup, v1 or v2). Where it
 * cannot, the test is skipped with the reason, except under CI=true, where it fails: CI must
 * run these.
 */
export function skipUnlessBoxed(t: Test): boolean {
  const support = boxSupport()
  if (support.ok) return false
  if (process.env.CI === 'true') {
    t.fail(`CI=true but no memory cgroup can be made here: ${support.reason}`)
    return true
  }
  t.plan(0, `no memory cgroup: ${support.reason}`)
  return true
}

/** A quota of two whole cores: on this kind of machine, no throttling at all. */
const UNTHROTTLED_CPUS = 2

export interface BoxedServer {
  url: string
  /** The server's pid (the box's shell execs node, so it keeps the shell's). */
  pid: number
  databaseUrl: string
  lines: string[]
  /** Undefined while it runs; else how it ended. */
  exit(): string | undefined
  /** CPU time used by everything in the box so far (µs), where the kernel reports it. */
  cpuMicros(): number | undefined
  /** The server's peak RSS (VmHWM) seen so far, and the box's own peak (what the limit counts). */
  peaks(): { rssBytes: number; boxBytes: number | undefined; oomKills: number }
}

/**
 * Starts the production bundle as render.yaml does (`node <the plan's flags> dist/app/start.js`,
 * or APP_ROOT's, to measure another checkout) inside a box of `memoryMb` (CPU unthrottled unless `cpus` says otherwise: most of
 * these tests are about memory) with a fresh database, and waits for its first 200 on /healthz.
 * Stopped and removed with the test.
 */
export async function startBoxedServer(
  t: Test,
  memoryMb: number,
  env: Record<string, string> = {},
  options: { cpus?: number } = {},
): Promise<BoxedServer> {
  const box = Box.create({ cpus: options.cpus ?? UNTHROTTLED_CPUS, memoryMb })
  const { url: databaseUrl } = await testDatabase(t)
  const port = await freePort()
  const root = process.env.APP_ROOT ?? ROOT
  const bootstrap = join(root, 'dist', 'app', 'start.js')
  const flags = v8Flags(planMemory({ envLimitMb: memoryMb }))
  const child = box.spawn(process.execPath, [...flags, bootstrap], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      // One client address sends everything here: rate limiting is not what is measured.
      RATE_LIMIT_MAX: '1000000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines = collectLines(child)
  let exit: string | undefined
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      exit = signal ?? `exit code ${code}`
      resolve()
    }),
  )
  let rssBytes = 0
  const sampler = setInterval(() => {
    const now = rss(processTree(child.pid as number))
    if (now) rssBytes = Math.max(rssBytes, now.serverPeak)
  }, 100)
  t.teardown(async () => {
    clearInterval(sampler)
    if (exit === undefined) {
      child.kill('SIGKILL')
      for (const pid of box.pids()) process.kill(pid, 'SIGKILL')
      await exited
    }
    await box.remove()
  })
  const url = `http://127.0.0.1:${port}`
  await waitFor(
    async () => {
      if (exit !== undefined) throw new Error(`server ended (${exit}):\n${lines.join('\n')}`)
      return get(`${url}/healthz`, 2000).then(
        (answer) => answer.status === 200,
        () => false,
      )
    },
    'the boxed server to answer /healthz',
    120_000,
  )
  return {
    url,
    pid: child.pid as number,
    databaseUrl,
    lines,
    exit: () => exit,
    cpuMicros: () => box.stats().cpuUsageMicros,
    peaks: () => {
      const stats = box.stats()
      return { rssBytes, boxBytes: stats.memoryPeakBytes, oomKills: stats.oomKills }
    },
  }
}

export const mb = (bytes: number | undefined) =>
  bytes === undefined ? '?' : `${Math.round(bytes / 1048576)} MB`
