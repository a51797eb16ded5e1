/**
 * Deploy rehearsal: what Render does with render.yaml, done on this machine. A clean copy of the
 * repository (what git would push), the blueprint's buildCommand and startCommand run verbatim
 * with the environment the blueprint and the platform give, the health check, then SIGTERM.
 */
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import t from 'tap'
import { blueprintEnv, PLATFORM_ENV, readBlueprint, webService } from '../helpers/blueprint.js'
import { testDatabase } from '../helpers/database.js'
import { untracked } from '../helpers/nested.js'
import { collectLines, freePort, ROOT } from '../helpers/process.js'
import { redis } from '../helpers/services.js'
import { waitFor } from '../helpers/wait.js'

/** The platform's allowances (DESIGN.md): each health check request times out after 5 s, ... */
const HEALTH_CHECK_TIMEOUT_MS = 5000
/** ... 60 s of failing health checks count as a failed instance, ... */
const HEALTH_CHECK_WINDOW_MS = 60_000
/** ... and after SIGTERM the platform sends SIGKILL at 30 s. */
const SIGKILL_AFTER_MS = 30_000

const web = webService(readBlueprint())
const SHELL = existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh'
const pinned = String(web.envVars?.find((v) => v.key === 'NODE_VERSION')?.value ?? '')
const git = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
  cwd: ROOT,
  encoding: 'utf8',
})
const tracked = git.status === 0 ? git.stdout.split('\0').filter(Boolean) : undefined

// The rehearsal installs and builds a whole copy; it runs on the Node version the blueprint pins
// (CI runs the suite on that version too), where it means the most.
const skip =
  process.versions.node.split('.')[0] !== pinned
    ? `render.yaml pins NODE_VERSION ${pinned}; this is Node ${process.versions.node} (the rehearsal runs on Node ${pinned}, as on Render; CI's Node ${pinned} pass runs it)`
    : tracked === undefined
      ? 'not a git checkout: Render deploys what git pushes, so the rehearsal copies what git tracks'
      : false

/** Is the port free on every interface (where the app binds on Render)? */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)))
  })
}

t.test(
  'deploy rehearsal: build and start as render.yaml says, health check, SIGTERM',
  { skip, timeout: 600_000 },
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'freetier-deploy-'))
    t.teardown(() => rmSync(work, { recursive: true, force: true }))

    // 1. A clean copy: the files git would push (tracked, plus new files not ignored).
    const copy = join(work, 'repo')
    for (const file of tracked ?? []) {
      if (!existsSync(join(ROOT, file))) continue // deleted in the working tree
      mkdirSync(dirname(join(copy, file)), { recursive: true })
      copyFileSync(join(ROOT, file), join(copy, file))
    }
    t.notOk(existsSync(join(copy, 'node_modules')), 'no node_modules in the copy')
    t.notOk(existsSync(join(copy, 'dist')), 'no build output in the copy')

    // 2. The environment: the blueprint's variables (references pointing at this machine's
    // services, generated values random) and what the platform sets.
    const redisService = await redis()
    const database = await testDatabase(t)
    const port = (await portFree(10000)) ? 10000 : await freePort()
    if (port !== 10000) t.comment(`port 10000 is taken on this machine: PORT=${port} instead`)
    const env: Record<string, string> = {
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      HOME: process.env.HOME ?? work,
      // npm client settings for a fast, quiet install from the local cache (not app settings).
      npm_config_prefer_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
      ...blueprintEnv(web, {
        database: (_name, property) => {
          if (property !== 'connectionString') throw new Error(`unexpected property ${property}`)
          return database.url
        },
        service: (type, _name, property) => {
          if (type !== 'keyvalue' || property !== 'connectionString') {
            throw new Error(`unexpected reference to ${type} ${property}`)
          }
          if (!redisService.url) throw new Error(`${redisService.skip}: cannot rehearse REDIS_URL`)
          return redisService.url
        },
      }),
      ...PLATFORM_ENV,
      PORT: String(port),
      // Not a blueprint setting: isolation on this machine's shared Redis (ignored by an app
      // without the variable).
      REDIS_KEY_PREFIX: `ft-deploy-${randomBytes(4).toString('hex')}`,
    }

    // 3. The build command, verbatim. NODE_ENV=production is set here too, although Render sets it
    // only at runtime: the build must not depend on it (hence --include=dev).
    const build = spawn(...untracked(SHELL, ['-c', web.buildCommand ?? 'false']), {
      cwd: copy,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const buildLines = collectLines(build)
    const [buildCode] = await once(build, 'exit')
    t.equal(buildCode, 0, `buildCommand "${web.buildCommand}" exits 0`)
    if (buildCode !== 0) {
      t.comment(buildLines.slice(-60).join('\n'))
      return
    }

    // The build pruned what only development needs: the deploy holds what production imports.
    // (npm prune leaves a scope's folder behind, empty: check the packages themselves.)
    for (const dev of ['typescript', '@biomejs/biome', 'tap', '@electric-sql/pglite']) {
      t.notOk(existsSync(join(copy, 'node_modules', dev)), `no ${dev} in the deployed node_modules`)
    }
    const du = spawnSync('du', ['-sk', join(copy, 'node_modules')], { encoding: 'utf8' })
    if (du.status === 0) {
      t.comment(`deployed node_modules: ${Math.round(Number.parseInt(du.stdout, 10) / 1024)} MB`)
    }

    // 4. The start command, verbatim, through bash as the platform runs it: bash hands a lone
    // command over (exec), so the platform's SIGTERM reaches node itself.
    const started = Date.now()
    const server = spawn(...untracked(SHELL, ['-c', web.startCommand ?? 'false']), {
      cwd: copy,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    const lines = collectLines(server)
    let exited: number | null | undefined
    const exit = once(server, 'exit').then(([code]) => {
      exited = code as number | null
      return exited
    })
    t.teardown(() => {
      if (exited === undefined) process.kill(-(server.pid as number), 'SIGKILL')
    })

    // 5. The health check, the way the platform probes it.
    const url = `http://127.0.0.1:${port}${web.healthCheckPath}`
    let healthy = false
    let last = 'no answer yet'
    while (!healthy && exited === undefined && Date.now() - started < HEALTH_CHECK_WINDOW_MS) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(HEALTH_CHECK_TIMEOUT_MS) })
        healthy = res.status === 200
        last = `HTTP ${res.status}`
      } catch (error) {
        last = String((error as Error).cause ?? error)
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    }
    t.ok(
      healthy,
      `${web.healthCheckPath} answered 200 within the platform's ${HEALTH_CHECK_WINDOW_MS / 1000} s (${last})`,
    )
    if (!healthy) t.comment(lines.join('\n'))
    t.comment(
      `first 200 on ${web.healthCheckPath} ${Date.now() - started} ms after the start command`,
    )
    // Bound to 0.0.0.0, Fastify lists every interface's address; loopback alone fails on Render.
    // The lines are written asynchronously: wait for them rather than read what arrived so far.
    await waitFor(
      () => lines.some((l) => l.includes('listening on http://')),
      'listening lines',
      30_000,
    )
    const listening = lines.filter((l) => l.includes('listening on http://'))
    t.ok(
      listening.some((l) => !/127\.0\.0\.1|\[::1\]|localhost/.test(l)),
      'listens beyond loopback (Render routes to the port on every interface)',
    )
    const cmdline = readFileSync(`/proc/${server.pid}/cmdline`, 'utf8').split('\0')
    t.match(cmdline[0], /node$/, 'the shell handed over to node: the signal reaches the app')

    const ready = await fetch(`http://127.0.0.1:${port}/readyz`)
    t.equal(ready.status, 200, '/readyz: the fresh database is migrated and reachable')
    const status = await fetch(`http://127.0.0.1:${port}/status`)
    t.equal(status.status, 401, '/status wants the generated STATUS_TOKEN')
    const authorized = await fetch(`http://127.0.0.1:${port}/status`, {
      headers: { authorization: `Bearer ${env.STATUS_TOKEN}` },
    })
    t.equal(authorized.status, 200, '/status answers with the token')

    // 6. A deploy replaces the instance: SIGTERM, then SIGKILL after 30 s.
    const stopping = Date.now()
    process.kill(server.pid as number, 'SIGTERM')
    const timer = setTimeout(
      () => process.kill(-(server.pid as number), 'SIGKILL'),
      SIGKILL_AFTER_MS,
    )
    const code = await exit
    clearTimeout(timer)
    t.equal(
      code,
      0,
      `exits 0 after SIGTERM, before the platform's SIGKILL (${Date.now() - stopping} ms)`,
    )
    t.ok(
      lines.some((l) => /"msg":"closed"/.test(l)),
      'closed what it opened',
    )
  },
)
