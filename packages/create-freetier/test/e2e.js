#!/usr/bin/env node
// @ts-check
/**
 * The scaffolder end to end, as a user gets it (slow: CI runs it, `npm test` does not):
 * pack the package, time `npm exec` from the tarball to the first question, scaffold with npm
 * and with pnpm (install, first commit with the lockfile), build and test each app, run
 * render.yaml's buildCommand in a fresh clone of the first commit, start it as render.yaml says
 * and make a request; then an app made with --no-redis: install, build, lint, test.
 *
 *   node packages/create-freetier/test/e2e.js            (from the repository)
 *
 * Needs git, Postgres (DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test) and the npm
 * registry (or a warm npm cache). Prints each step's time; exits 1 on the first failure.
 * Everything it makes is under one temporary directory, removed at the end.
 */
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { parse } from 'yaml'
import { PACKAGE } from './helpers.js'

/** pnpm as the e2e runs it, from the npm registry (not a global install). */
const PNPM_VERSION = process.env.E2E_PNPM_VERSION ?? '10.34.8'
/** The whole run's bound; each step has its own below. */
const TOTAL_MS = 45 * 60_000
const INSTALL_MS = 10 * 60_000
const TEST_MS = 15 * 60_000
/**
 * E2E_APP_TESTS="dist/test/config.test.js ...": run only these files of each app's suite
 * (without the coverage threshold), for a quick pass while changing the scaffolder. CI leaves it
 * unset: each app runs its whole `npm test`.
 */
const APP_TESTS = (process.env.E2E_APP_TESTS ?? '').split(/\s+/).filter(Boolean)
/** E2E_PHASES="pnpm,no-redis": only these apps (default: npm, pnpm and no-redis). */
const PHASES = (process.env.E2E_PHASES ?? 'npm,pnpm,no-redis').split(',')
const testArgs = APP_TESTS.length > 0 ? ['--', '--disable-coverage', ...APP_TESTS] : []

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'create-freetier-e2e-'))
const started = Date.now()
/** @type {Array<[string, number]>} */
const timings = []
/** @type {Set<import('node:child_process').ChildProcess>} */
const running = new Set()
/** @type {Array<() => void>} */
const cleanups = []

/** The environment of every command: this one without npm's per-run variables. */
const baseEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) => !/^(npm_|NODE_OPTIONS$|NODE_V8_COVERAGE$|TAP|_TAP|INIT_CWD$)/.test(key),
  ),
)
Object.assign(baseEnv, {
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
  npm_config_prefer_offline: 'true',
  GIT_AUTHOR_NAME: 'e2e',
  GIT_AUTHOR_EMAIL: 'e2e@example.com',
  GIT_COMMITTER_NAME: 'e2e',
  GIT_COMMITTER_EMAIL: 'e2e@example.com',
})

/** @param {string} message @returns {never} */
function fail(message) {
  throw new Error(message)
}

/**
 * Runs a command to completion within `timeoutMs`, output captured (shown on failure).
 * @param {string} label
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd: string, env?: Record<string, string | undefined>, timeoutMs?: number, allowFail?: boolean }} options
 */
async function step(label, cmd, args, { cwd, env = {}, timeoutMs = INSTALL_MS, allowFail }) {
  const t0 = Date.now()
  process.stdout.write(`-- ${label}\n`)
  const child = start(cmd, args, { cwd, env: { ...baseEnv, ...env } })
  const output = collect(child)
  const timer = setTimeout(() => process.kill(-(child.pid ?? 0), 'SIGKILL'), timeoutMs)
  const code = await new Promise((resolve) => child.on('close', resolve))
  clearTimeout(timer)
  running.delete(child)
  const ms = Date.now() - t0
  timings.push([label, ms])
  if (code !== 0 && !allowFail) {
    process.stdout.write(`${output().slice(-20000)}\n`)
    fail(`${label}: exit ${code}${ms >= timeoutMs ? ` (killed after ${timeoutMs / 1000} s)` : ''}`)
  }
  return { code, output: output() }
}

/**
 * Starts a command in its own process group (so a timeout or a failure kills all of it).
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd: string, env: Record<string, string | undefined> }} options
 */
function start(cmd, args, { cwd, env }) {
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  running.add(child)
  return child
}

/**
 * Everything a child writes, stdout and stderr together.
 * @param {import('node:child_process').ChildProcess} child
 * @returns {() => string}
 */
function collect(child) {
  let text = ''
  child.stdout?.on('data', (d) => {
    text += d
  })
  child.stderr?.on('data', (d) => {
    text += d
  })
  return () => text
}

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address())
      server.close(() => resolve(port))
    })
  })
}

/**
 * Runs `command` under a pseudo-terminal (script(1)) and resolves with the ms until `prompt`
 * appears; then answers Ctrl-C.
 * @param {string} command
 * @param {string} cwd
 * @param {RegExp} prompt
 */
function timeToPrompt(command, cwd, prompt) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd,
      env: { ...baseEnv, TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let out = ''
    let ms = -1
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.stdout.on('data', (d) => {
      out += d
      if (ms < 0 && prompt.test(out)) {
        ms = Number(process.hrtime.bigint() - t0) / 1e6
        child.stdin.write('\u0003')
      }
    })
    child.on('error', reject)
    child.on('close', () => {
      clearTimeout(timer)
      if (ms < 0) reject(new Error(`no prompt from ${command}:\n${out}`))
      else resolve(ms)
    })
  })
}

/** @param {string} sql */
function psql(sql) {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  const result = spawnSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qc', sql], { encoding: 'utf8' })
  if (result.status !== 0) fail(`psql ${sql}: ${result.stderr || result.error?.message}`)
  const database = new URL(url)
  return (/** @type {string} */ name) => {
    database.pathname = `/${name}`
    return database.toString()
  }
}

/**
 * A fresh clone of the app's first commit, render.yaml's buildCommand in it, then its
 * startCommand with the production environment the blueprint gives; one request to /readyz
 * (Postgres answering) and /healthz, then SIGTERM.
 * @param {string} label
 * @param {string} app
 * @param {Record<string, string>} env extra environment (PATH for the package manager)
 */
async function deployRehearsal(label, app, env) {
  const clone = path.join(work, `${path.basename(app)}-clone`)
  await step(`${label}: git clone (the first commit)`, 'git', ['clone', '--quiet', app, clone], {
    cwd: work,
  })
  const web = parse(fs.readFileSync(path.join(clone, 'render.yaml'), 'utf8')).services.find(
    (/** @type {{ type: string }} */ s) => s.type === 'web',
  )
  // Render sets NODE_ENV=production at runtime only; the build must not depend on it either way.
  await step(`${label}: render.yaml buildCommand`, 'bash', ['-c', web.buildCommand], {
    cwd: clone,
    env: { ...env, NODE_ENV: 'production', CI: 'true' },
  })
  const name = `ft_e2e_${randomBytes(5).toString('hex')}`
  const urlOf = psql(`CREATE DATABASE ${name}`)
  cleanups.push(() => psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
  const port = await freePort()
  const t0 = Date.now()
  const server = start('bash', ['-c', web.startCommand], {
    cwd: clone,
    env: {
      ...baseEnv,
      ...env,
      NODE_ENV: 'production',
      RENDER: 'true',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: urlOf(name),
      STATUS_TOKEN: randomBytes(16).toString('hex'),
    },
  })
  const log = collect(server)
  let status = 0
  while (Date.now() - t0 < 120_000 && server.exitCode === null) {
    status = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (response) => response.status,
      () => 0,
    )
    if (status === 200) break
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  timings.push([`${label}: start -> GET /readyz 200`, Date.now() - t0])
  if (status !== 200) fail(`${label}: /readyz answered ${status}\n${log().slice(-8000)}`)
  const health = await fetch(`http://127.0.0.1:${port}/healthz`)
  if (health.status !== 200) fail(`${label}: /healthz answered ${health.status}`)
  // To the process, as the platform does (the bootstrap forwards it to the server it started).
  process.kill(server.pid ?? 0, 'SIGTERM')
  const code = await new Promise((resolve) => server.on('close', resolve))
  running.delete(server)
  if (code !== 0) fail(`${label}: exit ${code} after SIGTERM\n${log().slice(-4000)}`)
}

/**
 * An app, scaffolded with its dependencies installed: its first commit holds the lockfile.
 * @param {string} label
 * @param {string} bin the installed create-freetier
 * @param {string[]} args
 * @param {Record<string, string>} env
 * @param {string} lockfile
 */
async function scaffold(label, bin, args, env, lockfile) {
  const apps = path.join(work, 'apps')
  fs.mkdirSync(apps, { recursive: true })
  await step(`${label}: create-freetier ${args.join(' ')}`, bin, args, { cwd: apps, env })
  const app = path.join(apps, args[0] ?? fail('no directory'))
  const committed = spawnSync('git', ['ls-files'], { cwd: app, encoding: 'utf8' }).stdout
  if (!committed.split('\n').includes(lockfile)) fail(`${label}: ${lockfile} not in the commit`)
  const dirty = spawnSync('git', ['status', '--porcelain'], { cwd: app, encoding: 'utf8' }).stdout
  if (dirty !== '') fail(`${label}: uncommitted after scaffolding:\n${dirty}`)
  const mode = fs.statSync(app).mode & 0o777
  if (mode !== (0o777 & ~process.umask())) fail(`${label}: directory mode ${mode.toString(8)}`)
  return app
}

async function main() {
  const deadline = setTimeout(() => {
    process.stderr.write(`e2e: over ${TOTAL_MS / 60000} min; stopping\n`)
    shutdown(1)
  }, TOTAL_MS)
  deadline.unref()

  // 1. The package as npm publishes it.
  const packed = await step('npm pack', 'npm', ['pack', '--json', '--pack-destination', work], {
    cwd: PACKAGE,
  })
  const info = JSON.parse(packed.output.slice(packed.output.indexOf('[')))[0]
  const tarball = path.join(work, info.filename)
  const files = info.files.map((/** @type {{ path: string }} */ f) => f.path)
  process.stdout.write(
    `   ${info.filename}: ${info.size} bytes packed, ${info.unpackedSize} unpacked, files: ${files.join(' ')}\n`,
  )
  const manifest = JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8'))
  if (manifest.dependencies && Object.keys(manifest.dependencies).length > 0) {
    fail('create-freetier has runtime dependencies')
  }
  if (!files.includes('template.json')) fail('template.json is not packed')

  // 2. npm create's path: npm exec installs the tarball and runs its bin; time to the question.
  const empty = path.join(work, 'empty')
  fs.mkdirSync(empty)
  const cache = path.join(work, 'npm-cache')
  const firstPrompt = await timeToPrompt(
    `npm exec --yes --cache ${cache} --package=${tarball} -- create-freetier`,
    empty,
    /Project directory/,
  )
  timings.push(['npm exec <tarball> -> first question (cold npm cache)', firstPrompt])
  if (fs.readdirSync(empty).length > 0) fail('Ctrl-C at the first question left files behind')

  const runner = path.join(work, 'runner')
  fs.mkdirSync(runner)
  fs.writeFileSync(path.join(runner, 'package.json'), '{"private":true}\n')
  await step('npm install <tarball>', 'npm', ['install', tarball], { cwd: runner })
  const bin = path.join(runner, 'node_modules', '.bin', 'create-freetier')
  const installedPrompt = await timeToPrompt(bin, empty, /Project directory/)
  timings.push(['create-freetier (installed) -> first question', installedPrompt])

  // 3. npm: scaffold (install + first commit), build, test, deploy rehearsal.
  await phase('npm', async () => {
    const app = await scaffold(
      'npm',
      bin,
      ['app-npm', '--yes', '--pm', 'npm'],
      {},
      'package-lock.json',
    )
    await step('npm: npm run build', 'npm', ['run', 'build'], { cwd: app })
    await step('npm: npm test', 'npm', ['test', ...testArgs], { cwd: app, timeoutMs: TEST_MS })
    await deployRehearsal('npm', app, {})
  })

  // 4. pnpm, from the npm registry.
  await phase('pnpm', async () => {
    const tools = path.join(work, 'tools')
    await step(
      `pnpm@${PNPM_VERSION} from the registry`,
      'npm',
      ['install', '--prefix', tools, `pnpm@${PNPM_VERSION}`],
      { cwd: work },
    )
    const env = { PATH: `${path.join(tools, 'node_modules', '.bin')}:${process.env.PATH}` }
    const app = await scaffold(
      'pnpm',
      bin,
      ['app-pnpm', '--yes', '--pm', 'pnpm'],
      env,
      'pnpm-lock.yaml',
    )
    await step('pnpm: pnpm build', 'pnpm', ['build'], { cwd: app, env })
    await step('pnpm: pnpm test', 'pnpm', ['test', ...testArgs.slice(1)], {
      cwd: app,
      env,
      timeoutMs: TEST_MS,
    })
    await deployRehearsal('pnpm', app, env)
  })

  // 5. Without Redis: no Redis code or dependency, and still green.
  await phase('no-redis', async () => {
    const app = await scaffold(
      'no-redis',
      bin,
      ['app-lean', '--yes', '--no-redis'],
      {},
      'package-lock.json',
    )
    const pkg = JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf8'))
    if (pkg.dependencies.ioredis) fail('no-redis: ioredis is still a dependency')
    await step('no-redis: npm run build', 'npm', ['run', 'build'], { cwd: app })
    await step('no-redis: npm run lint', 'npm', ['run', 'lint'], { cwd: app })
    await step('no-redis: npm test', 'npm', ['test', ...testArgs], { cwd: app, timeoutMs: TEST_MS })
  })
  if (failed.length > 0) fail(`failed: ${failed.join('; ')}`)
}

/** @type {string[]} */
const failed = []

/**
 * One scaffolded app's checks; a failure is recorded and the next app still runs.
 * @param {string} label
 * @param {() => Promise<void>} body
 */
async function phase(label, body) {
  if (!PHASES.includes(label)) return
  try {
    await body()
  } catch (error) {
    process.stdout.write(`!! ${label}: ${/** @type {Error} */ (error).message.split('\n')[0]}\n`)
    failed.push(`${label}: ${/** @type {Error} */ (error).message.split('\n')[0]}`)
  }
}

/** @param {number} code */
function shutdown(code) {
  for (const child of running) {
    try {
      process.kill(-(child.pid ?? 0), 'SIGKILL')
    } catch {}
  }
  for (const cleanup of cleanups.splice(0)) {
    try {
      cleanup()
    } catch (error) {
      process.stderr.write(`e2e cleanup: ${/** @type {Error} */ (error).message}\n`)
    }
  }
  process.stdout.write('\ncreate-freetier e2e timings:\n')
  for (const [label, ms] of timings) {
    process.stdout.write(`  ${(ms / 1000).toFixed(1).padStart(7)} s  ${label}\n`)
  }
  process.stdout.write(`  ${((Date.now() - started) / 1000).toFixed(1).padStart(7)} s  total\n`)
  // Killed processes may still be writing for a moment.
  fs.rmSync(work, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 })
  process.exit(code)
}

for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(signal, () => shutdown(130))
}
main().then(
  () => {
    process.stdout.write('\ne2e: all steps passed\n')
    shutdown(0)
  },
  (error) => {
    process.stderr.write(`\ne2e failed: ${error.stack ?? error}\n`)
    shutdown(1)
  },
)
