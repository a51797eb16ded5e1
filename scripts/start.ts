/**
 * The production bootstrap: memory plan -> V8 flags -> the compiled server, as one process.
 * Run the build's bundle with `node dist/app/start.js` (not `npm start`: npm would stay resident,
 * costing tens of MB, and sits between the platform's SIGTERM and the server). Tests run tsc's
 * output, dist/scripts/start.js, which starts dist/src/server.js the same way.
 *
 * `node dist/scripts/start.js <entry.js>` runs another entry module under the same plan (the
 * process tests run test/fixtures/server.ts, the server plus test-only routes). Only the start
 * command chooses it, never the environment, so no variable can swap the production server.
 */
import { existsSync } from 'node:fs'
import nodeModule from 'node:module'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describePlan, parseLimitMb, planMemory, readLimitInputs, v8Flags } from '../src/memory.js'
import { appModule } from '../src/modules.js'
import { describeDotEnv, loadDotEnv } from './dot-env.js'

// `npm start` on a developer's machine: `.env` fills what the environment does not set, for this
// process and the server it becomes. Only in development: in production it is not even read.
const dotEnv = describeDotEnv(loadDotEnv())
if (dotEnv) process.stdout.write(`freetier: ${dotEnv}\n`)

// The one variable read outside src/config.ts, on purpose: loading the config schema here
// (TypeBox, ajv) cost ~0.4 s of CPU and ~25 MB, paid again by the server, which validates the
// whole environment itself and exits 1 listing every problem (that exit code is passed on).
const envLimit = parseLimitMb(process.env.MEMORY_LIMIT_MB)
const plan = planMemory(readLimitInputs(envLimit === 'invalid' ? undefined : envLimit))
if (envLimit !== 'invalid') {
  process.stdout.write(`freetier: ${describePlan(plan)}\n`)
  for (const warning of plan.warnings) process.stderr.write(`freetier: warning: ${warning}\n`)
}

const entry = process.argv[2]
const server = entry ? resolve(entry) : fileURLToPath(appModule('server'))
// V8's compile cache, made by the build next to the bundle (scripts/build.ts). Node (22+) keys it
// by its version and V8 flags and compiles afresh on a mismatch; Node 20 has no compile cache.
const compileCache = fileURLToPath(new URL('./compile-cache', appModule('server')))
const useCompileCache = process.env.NODE_COMPILE_CACHE === undefined && existsSync(compileCache)
const flags = v8Flags(plan)

type ModuleWithCache = { enableCompileCache?: (dir: string) => unknown }
type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never
const execve = (process as { execve?: Execve }).execve

if (entry === undefined && flags.every((flag) => process.execArgv.includes(flag))) {
  // The start command already gave this process the plan's flags (render.yaml's does): the
  // server runs here, without a second Node start (~35 ms of CPU, a third of a second at 0.1 CPU).
  if (useCompileCache) (nodeModule as ModuleWithCache).enableCompileCache?.(compileCache)
  const { start } = (await import(pathToFileURL(server).href)) as { start: () => Promise<void> }
  await start()
} else {
  const env = useCompileCache ? { ...process.env, NODE_COMPILE_CACHE: compileCache } : process.env
  const args = [...flags, server]
  if (typeof execve === 'function') {
    // Node >= 22.15: replace this process, so exactly one process stays resident.
    execve(process.execPath, [process.execPath, ...args], env)
  } else {
    // Loaded here only: child_process costs ~5 ms of CPU to load, for Node 20 alone.
    const { spawn } = process.getBuiltinModule('node:child_process')
    const child = spawn(process.execPath, args, { stdio: 'inherit', env })
    // Ctrl-C on a terminal already reaches the child through the process group; forwarding it
    // too would look like a second signal, which exits at once instead of draining.
    const forwarded = process.stdin.isTTY ? ['SIGTERM', 'SIGHUP'] : ['SIGTERM', 'SIGINT', 'SIGHUP']
    for (const signal of forwarded as NodeJS.Signals[]) {
      process.on(signal, () => child.kill(signal))
    }
    if (process.stdin.isTTY) process.on('SIGINT', () => {})
    child.on('exit', (code, signal) => {
      if (signal) {
        process.removeAllListeners(signal)
        process.kill(process.pid, signal)
      } else {
        process.exit(code ?? 1)
      }
    })
  }
}
