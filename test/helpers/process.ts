import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { eachLine, freePort } from '../../scripts/process-io.js'
import { TEST_ENV } from './config.js'
import { testDatabase } from './database.js'
import { STUCK_MS } from './wait.js'

/** The repository root, from dist/test/helpers. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
export const BOOTSTRAP = join(ROOT, 'dist', 'scripts', 'start.js')
export const SERVER = join(ROOT, 'dist', 'src', 'server.js')
/** The server plus the test-only routes (test/fixtures/test-routes.ts), for process tests. */
export const TEST_SERVER = join(ROOT, 'dist', 'test', 'fixtures', 'server.js')

export { freePort }

/** Every complete stdout and stderr line of `child`, as it arrives (`onLines` after each chunk). */
export function collectLines(child: ChildProcess, onLines?: () => void): string[] {
  const lines: string[] = []
  eachLine(child, (line) => lines.push(line), onLines)
  return lines
}

export interface RunningProcess {
  child: ChildProcess
  port: number
  url: string
  /** Every stdout and stderr line so far. */
  lines: string[]
  /** JSON log lines parsed (non-JSON lines skipped). */
  logs(): Array<Record<string, unknown>>
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>
  /** Resolves with the exit; rejects (rather than hanging the suite) if it takes too long. */
  waitForExit(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * Starts a real node process (the bootstrap by default) and stops it when the test ends. Without
 * DATABASE_URL in env it gets a fresh database of its own (testDatabase); pass DATABASE_URL: ''
 * to run the embedded default instead (then also set PGLITE_DATA_DIR to a temp dir). `args`
 * follow the script (the bootstrap takes the entry to run: TEST_SERVER for the test routes).
 * `command` runs something other than node (e.g. `['npm', 'run', 'dev']`), in `cwd` (the root).
 */
export async function startProcess(
  t: Test,
  options: {
    env?: Record<string, string>
    script?: string
    args?: string[]
    nodeArgs?: string[]
    command?: string[]
    cwd?: string
    /** false: no V8 coverage for this process (it changes the memory figures under test). */
    coverage?: boolean
  } = {},
): Promise<RunningProcess> {
  const port = await freePort()
  const database =
    options.env?.DATABASE_URL === undefined
      ? { DATABASE_URL: (await testDatabase(t)).url }
      : ({} as Record<string, string>)
  const [file, ...args] = options.command ?? [
    process.execPath,
    ...(options.nodeArgs ?? []),
    options.script ?? BOOTSTRAP,
    ...(options.args ?? []),
  ]
  const child = spawn(file as string, args, {
    cwd: options.cwd ?? ROOT,
    env: {
      PATH: process.env.PATH,
      // Coverage of the real process flows back to tap.
      ...(process.env.NODE_V8_COVERAGE && options.coverage !== false
        ? { NODE_V8_COVERAGE: process.env.NODE_V8_COVERAGE }
        : {}),
      // Not TEST_ENV's memory limit: the bootstrap's own detection is under test here.
      NODE_ENV: TEST_ENV.NODE_ENV,
      EVENT_LOOP_DELAY_MAX_MS: TEST_ENV.EVENT_LOOP_DELAY_MAX_MS,
      LOG_LEVEL: 'info',
      PORT: String(port),
      ...database,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so teardown also reaches a server the bootstrap spawned (Node 20).
    detached: true,
  })
  const waiters = new Set<() => void>()
  const lines = collectLines(child, () => {
    for (const wake of waiters) wake()
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      for (const wake of waiters) wake()
      resolve({ code, signal })
    })
  })
  let done = false
  void exited.then(() => {
    done = true
  })
  t.teardown(async () => {
    if (!done) {
      process.kill(-(child.pid as number), 'SIGKILL')
      await exited
    }
  })

  const waitForLine = (pattern: RegExp, timeoutMs = STUCK_MS) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = lines.find((l) => pattern.test(l))
        if (found !== undefined) {
          cleanup()
          resolve(found)
        } else if (done) {
          cleanup()
          reject(new Error(`process exited before printing ${pattern}:\n${lines.join('\n')}`))
        }
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`no line matching ${pattern} in ${timeoutMs}ms:\n${lines.join('\n')}`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        waiters.delete(check)
      }
      waiters.add(check)
      check()
    })

  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    lines,
    logs: () =>
      lines.flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>]
        } catch {
          return []
        }
      }),
    waitForLine,
    waitForExit: (timeoutMs = STUCK_MS) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`still running after ${timeoutMs}ms:\n${lines.join('\n')}`)),
          timeoutMs,
        )
        void exited.then((result) => {
          clearTimeout(timer)
          resolve(result)
        })
      }),
  }
}

/**
 * Starts the real bootstrap and waits until the server has listened and run its start-up GC.
 * `testRoutes: true` runs TEST_SERVER (the same server with the /__test routes) instead.
 */
export async function startServer(
  t: Test,
  env: Record<string, string> = {},
  options: { testRoutes?: boolean; coverage?: boolean } = {},
) {
  const proc = await startProcess(t, {
    env,
    args: options.testRoutes ? [TEST_SERVER] : [],
    coverage: options.coverage,
  })
  await proc.waitForLine(/"msg":"ready/)
  return proc
}
