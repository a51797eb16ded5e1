import { type ChildProcess, spawn } from 'node:child_process'
import { constants } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { Box, type BoxLimits, type BoxStats } from '../scripts/box.js'
import { eachLine, freePort } from '../scripts/process-io.js'
import { send } from './http.js'
import { clockTicksPerSecond, cpuTicks, processTree, type Rss, rss } from './proc.js'
import { xCache } from './scenario.js'

/** Starting, timing and stopping the processes under test, each in its own box where possible. */

export interface ServerSpec {
  /** Shown in progress and the report: `bare Fastify`, `app`, `app (L1 off)` ... */
  label: string
  /** The script node runs: the bootstrap or a baseline. */
  script: string
  /** Flags for node before the script. */
  nodeArgs?: string[]
  env: Record<string, string>
  /** The free-tier box to run in; undefined: no cgroup. */
  box: BoxLimits | undefined
  /** CPU list for taskset, or undefined to run unpinned. */
  cpu: string | undefined
  cwd: string
}

export interface RunningServer {
  spec: ServerSpec
  child: ChildProcess
  box: Box | undefined
  url: string
  /** Spawn to the first 200 on /healthz. */
  bootMs: number
  /** Spawn to the first cached answer on the cold-read path, when one was given. */
  coldReadMs: number | undefined
  /** CPU time the process used until its first 200 (the box's account, else /proc). */
  bootCpuMs: number
  /** Tree RSS shortly after the server logged that its post-start GC ran. */
  idle: Rss
  /** The pids measured (bootstrap and, on Node < 22.15, the server it spawned). */
  pids: number[]
  /** The memory limit the app's own plan reports (its `freetier: memory limit ...` line). */
  planLine: string | undefined
  /** The last lines the process printed (for error messages) and lines worth keeping. */
  tail: string[]
  notable: string[]
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  exited: Promise<void>
  /** What the box saw, read once the process has exited. */
  boxStats: BoxStats | undefined
}

/** Servers started and not yet stopped: stopped (and their boxes removed) if the bench is interrupted. */
const running = new Set<RunningServer>()
let stopOnInterrupt = false

/** On Ctrl-C or SIGTERM the servers (in process groups of their own) go too, boxes included. */
function stopRunningOnInterrupt() {
  if (stopOnInterrupt) return
  stopOnInterrupt = true
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, async () => {
      await Promise.allSettled([...running].map(stopServer))
      process.exit(128 + constants.signals[signal])
    })
  }
}

export const READY_LINE = /ready \(after post-start gc\)/
const PLAN_LINE = /^freetier: (memory limit \d+MB \(from [^)]+\))/
/** Lines kept whatever their number: fatal errors, the leak guard, crashes. */
const NOTABLE = /"level":60|"level":50|Error|freetier: warning/
/** What the server logs (at fatal) when its leak guard decides to recycle the process. */
export const LEAK_GUARD_LINE = /leak guard: heap stayed above/
const TAIL = 40

/** CPU time of the process so far, in ms: the box's account (every thread and child) or /proc. */
export function cpuMs(server: Pick<RunningServer, 'box' | 'pids' | 'child'>): number {
  const micros = server.box?.stats().cpuUsageMicros
  if (micros !== undefined) return micros / 1000
  const pids = server.pids.length > 0 ? server.pids : processTree(server.child.pid as number)
  return (cpuTicks(pids) / clockTicksPerSecond()) * 1000
}

/**
 * Spawns the server (in its box, else pinned), times spawn to the first 200 on /healthz and, when
 * `coldRead` is given, to the first cached answer there; then waits for its post-start GC.
 */
export async function startServer(
  spec: ServerSpec,
  coldRead?: string,
  timeoutMs = 180_000,
): Promise<RunningServer> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const command = [process.execPath, ...(spec.nodeArgs ?? []), spec.script]
  const [file, ...args] = spec.cpu === undefined ? command : ['taskset', '-c', spec.cpu, ...command]
  const box = spec.box ? Box.create(spec.box) : undefined
  const options = {
    cwd: spec.cwd,
    env: { PATH: process.env.PATH, ...spec.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'] as const,
    detached: true,
  }
  const started = performance.now()
  const child = box
    ? box.spawn(file as string, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(file as string, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
  const server: RunningServer = {
    spec,
    child,
    box,
    url,
    bootMs: 0,
    coldReadMs: undefined,
    bootCpuMs: 0,
    idle: { tree: 0, server: 0, serverPeak: 0 },
    pids: [],
    planLine: undefined,
    tail: [],
    notable: [],
    exit: undefined,
    exited: Promise.resolve(),
    boxStats: undefined,
  }
  running.add(server)
  stopRunningOnInterrupt()
  let ready = false
  eachLine(child, (line) => {
    if (!ready && READY_LINE.test(line)) ready = true
    server.planLine ??= PLAN_LINE.exec(line)?.[1]
    if (NOTABLE.test(line) || LEAK_GUARD_LINE.test(line)) server.notable.push(line.slice(0, 2000))
    server.tail.push(line.slice(0, 500))
    if (server.tail.length > TAIL) server.tail.shift()
  })
  server.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      server.exit = { code, signal }
      resolve()
    })
  })
  const fail = async (why: string) => {
    await stopServer(server)
    return new Error(`${spec.label}: ${why}\n${server.tail.map((l) => `  | ${l}`).join('\n')}`)
  }
  const deadline = started + timeoutMs
  /** Polls GET `path` every 5 ms until `done` says yes. */
  const until = async (
    path: string,
    what: string,
    done: (r: Awaited<ReturnType<typeof send>>) => boolean,
  ) => {
    for (;;) {
      if (server.exit) throw await fail(`exited (${JSON.stringify(server.exit)}) before ${what}`)
      if (performance.now() > deadline) throw await fail(`no ${what} within ${timeoutMs} ms`)
      const response = await send(`${url}${path}`, { timeoutMs: 5000 }).catch(() => undefined)
      if (response && done(response)) return
      await sleep(5)
    }
  }

  await until('/healthz', 'first 200 on /healthz', (r) => r.status === 200)
  server.bootMs = performance.now() - started
  server.bootCpuMs = cpuMs(server)
  if (coldRead !== undefined) {
    // The first visitor's read: a 200 from a cache tier (a miss fills it, the next one hits);
    // a route that says nothing of caching counts at its first 200.
    await until(
      coldRead,
      `cached answer on ${coldRead}`,
      (r) => r.status === 200 && xCache(r) !== 'miss',
    )
    server.coldReadMs = performance.now() - started
  }

  // The ready line is logged at info: with a quieter LOG_LEVEL, give the GC a fixed second instead.
  const quiet = /^(warn|error|fatal|silent)$/.test(spec.env.LOG_LEVEL ?? '')
  if (quiet) await sleep(1000)
  while (!ready && !quiet) {
    if (server.exit) throw await fail('exited before its post-start GC')
    if (performance.now() > deadline)
      throw await fail(`no "ready (after post-start gc)" line within ${timeoutMs} ms`)
    await sleep(5)
  }
  // Let the GC's freed pages go back and the first log writes settle before reading idle RSS.
  await sleep(300)
  server.pids = processTree(child.pid as number)
  server.idle = rss(server.pids) ?? server.idle
  return server
}

/**
 * SIGTERM to the process group (the graceful path), SIGKILL if it has not exited in 30 s; then
 * reads what its box saw and removes the box.
 */
export async function stopServer(server: RunningServer): Promise<void> {
  running.delete(server)
  if (!server.exit) {
    const group = -(server.child.pid as number)
    let timer: NodeJS.Timeout | undefined
    try {
      process.kill(group, 'SIGTERM')
      timer = setTimeout(() => {
        try {
          process.kill(group, 'SIGKILL')
        } catch {}
      }, 30_000)
    } catch {}
    await server.exited
    clearTimeout(timer)
  }
  if (server.box && !server.boxStats) {
    server.boxStats = server.box.stats()
    await server.box.remove()
  }
}
