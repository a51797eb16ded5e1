/**
 * `npm run dev`: runs src/server.ts under tsx, restarts it when a file under src/ or `.env`
 * changes, and turns one Ctrl-C into one graceful shutdown.
 *
 * Why not `tsx watch` (or `node --watch`): the watcher and the server share the terminal's
 * process group, so one Ctrl-C reached the server twice (from the terminal, then relayed by the
 * watcher; npm relays it once more), and close-with-grace reads a second signal as "exit now":
 * nothing drained and the embedded database was not closed. Here the server runs in a process
 * group of its own, so signals reach it only through this runner, exactly once.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { type FSWatcher, watch } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describeDotEnv, loadDotEnv } from './dot-env.js'

/** Like the platform: a server that has not finished draining by then is killed. */
const KILL_AFTER_MS = 30_000
/** Editors write a file in several steps: one restart per burst of changes. */
const SETTLE_MS = 150

const say = (line: string) => process.stdout.write(`freetier dev: ${line}\n`)

const server = fileURLToPath(new URL('../src/server.ts', import.meta.url))
const tsx = import.meta.resolve('tsx')
const sources = fileURLToPath(new URL('../src', import.meta.url))

let child: ChildProcess | undefined
let stopping: NodeJS.Signals | undefined
let restarting = false

function start() {
  // Read on every start, so an edit to .env applies at the restart it triggers.
  const env = { ...process.env }
  const dotEnv = describeDotEnv(loadDotEnv('.env', env))
  if (dotEnv) say(dotEnv)
  const started = spawn(process.execPath, ['--import', tsx, server], {
    stdio: 'inherit',
    env,
    // Its own process group: the terminal's Ctrl-C reaches this runner only.
    detached: true,
  })
  child = started
  started.on('exit', (code, signal) => {
    if (child === started) child = undefined
    if (stopping) process.exit(code ?? 1)
    else if (!restarting) say(`server exited (${signal ?? code}); waiting for a change to restart`)
  })
}

/** Resolves once the server is gone, after `signal` (and SIGKILL if it outstays its budget). */
function stop(signal: NodeJS.Signals): Promise<void> {
  const running = child
  if (!running || running.exitCode !== null || running.signalCode !== null) {
    return Promise.resolve()
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      say(`server still running ${KILL_AFTER_MS / 1000} s after ${signal}; killing it`)
      running.kill('SIGKILL')
    }, KILL_AFTER_MS)
    running.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    running.kill(signal)
  })
}

let pending: NodeJS.Timeout | undefined
let changed = ''

function scheduleRestart(file: string) {
  if (stopping) return
  changed = file
  clearTimeout(pending)
  pending = setTimeout(async () => {
    if (restarting) return scheduleRestart(changed)
    restarting = true
    say(`${changed} changed; restarting`)
    await stop('SIGTERM')
    restarting = false
    if (!stopping) start()
  }, SETTLE_MS)
}

const watchers: FSWatcher[] = [
  watch(sources, { recursive: true }, (_event, file) => scheduleRestart(`src/${file ?? ''}`)),
  watch('.', (_event, file) => {
    if (file === '.env') scheduleRestart('.env')
  }),
]

// The first signal drains the server once; the copies that arrive with it (npm relays the
// terminal's SIGINT) and any later one are ignored: the server's own shutdown budget, then
// KILL_AFTER_MS, bound the wait.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (stopping) return
    stopping = signal
    clearTimeout(pending)
    for (const watcher of watchers) watcher.close()
    if (!child) process.exit(0)
    // A restart in progress already sent SIGTERM: its exit ends this process too.
    if (!restarting) void stop(signal)
  })
}

start()
