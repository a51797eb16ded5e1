import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { eachLine, freePort } from '../scripts/process-io.js'
import { send } from './http.js'
import { clockTicksPerSecond, cpuTicks, processTree, type Rss, rss } from './proc.js'

/** Starting, timing and stopping the processes under test. */

export interface ServerSpec {
  /** Shown in progress and the report: `baseline`, `app`, `app (L1 off)` ... */
  label: string
  /** The script node runs: the bootstrap or the baseline. */
  script: string
  /** Flags for node before the script. */
  nodeArgs?: string[]
  env: Record<string, string>
  /** CPU list for taskset, or undefined to run unpinned. */
  cpu: string | undefined
  cwd: string
}

export interface RunningServer {
  spec: ServerSpec
  child: ChildProcess
  url: string
  /** Spawn to the first 200 on /healthz. */
  bootMs: number
  /** CPU time (user+sys, whole tree) the process used until then: robust on a busy machine. */
  bootCpuMs: number
  /** Tree RSS shortly after the server logged that its post-start GC ran. */
  idle: Rss
  /** The pids measured (bootstrap and, on Node < 22.15, the server it spawned). */
  pids: number[]
  /** The last lines the process printed (for error messages) and lines worth keeping. */
  tail: string[]
  notable: string[]
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  exited: Promise<void>
}

export const READY_LINE = /ready \(after post-start gc\)/
/** Lines kept whatever their number: fatal errors, the leak guard, crashes. */
const NOTABLE = /"level":60|"level":50|Error|freetier: warning/
/** What the server logs (at fatal) when its leak guard decides to recycle the process. */
export const LEAK_GUARD_LINE = /leak guard: heap stayed above/
const TAIL = 40

/** Spawns the server pinned, times spawn to first 200 on /healthz, waits for its post-start GC. */
export async function startServer(spec: ServerSpec, timeoutMs = 60_000): Promise<RunningServer> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const command = [process.execPath, ...(spec.nodeArgs ?? []), spec.script]
  const [file, ...args] = spec.cpu === undefined ? command : ['taskset', '-c', spec.cpu, ...command]
  const started = performance.now()
  const child = spawn(file as string, args, {
    cwd: spec.cwd,
    env: { PATH: process.env.PATH, ...spec.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  const server: RunningServer = {
    spec,
    child,
    url,
    bootMs: 0,
    bootCpuMs: 0,
    idle: { tree: 0, server: 0, serverPeak: 0 },
    pids: [],
    tail: [],
    notable: [],
    exit: undefined,
    exited: Promise.resolve(),
  }
  let ready = false
  eachLine(child, (line) => {
    if (!ready && READY_LINE.test(line)) ready = true
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
  const fail = (why: string) =>
    new Error(`${spec.label}: ${why}\n${server.tail.map((l) => `  | ${l}`).join('\n')}`)

  // Boot: spawn to the first 200 on /healthz, polled every 5 ms.
  const deadline = started + timeoutMs
  for (;;) {
    if (server.exit) throw fail(`exited (${JSON.stringify(server.exit)}) before answering /healthz`)
    if (performance.now() > deadline) {
      await stopServer(server)
      throw fail(`no 200 on /healthz within ${timeoutMs} ms`)
    }
    const status = await send(`${url}/healthz`, { timeoutMs: 1000 }).then(
      (r) => r.status,
      () => 0,
    )
    if (status === 200) break
    await sleep(5)
  }
  server.bootMs = performance.now() - started
  server.bootCpuMs = (cpuTicks(processTree(child.pid as number)) / clockTicksPerSecond()) * 1000

  // The ready line is logged at info: with a quieter LOG_LEVEL, give the GC a fixed second instead.
  const quiet = /^(warn|error|fatal|silent)$/.test(spec.env.LOG_LEVEL ?? '')
  if (quiet) await sleep(1000)
  while (!ready && !quiet) {
    if (server.exit) throw fail('exited before its post-start GC')
    if (performance.now() > deadline) {
      await stopServer(server)
      throw fail(`no "ready (after post-start gc)" line within ${timeoutMs} ms`)
    }
    await sleep(5)
  }
  // Let the GC's freed pages go back and the first log writes settle before reading idle RSS.
  await sleep(300)
  server.pids = processTree(child.pid as number)
  server.idle = rss(server.pids) ?? server.idle
  return server
}

/** SIGTERM to the process group (the graceful path), SIGKILL if it has not exited in 30 s. */
export async function stopServer(server: RunningServer): Promise<void> {
  if (server.exit) return
  const group = -(server.child.pid as number)
  try {
    process.kill(group, 'SIGTERM')
  } catch {
    return
  }
  const timer = setTimeout(() => {
    try {
      process.kill(group, 'SIGKILL')
    } catch {}
  }, 30_000)
  await server.exited
  clearTimeout(timer)
}
