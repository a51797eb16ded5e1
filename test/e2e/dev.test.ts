import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { getStatus } from '../helpers/http.js'
import { ROOT, startProcess } from '../helpers/process.js'

/**
 * The development loop end to end, with real processes: `npm run dev` and `npm start`'s
 * bootstrap, and their .env. One Ctrl-C draining a request in flight is tested with the example
 * module's routes, in src/notes/test/e2e/dev-drain.test.ts.
 */

const TOKEN = 'token-from-dot-env-0123456789'

async function tempDir(t: Test, prefix: string) {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** GET /healthz, retried while the server is not listening yet (a bounded number of times). */
async function healthz(url: string): Promise<number> {
  for (let attempt = 0; attempt < 600; attempt++) {
    try {
      return (await fetch(`${url}/healthz`)).status
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  throw new Error(`${url} never answered`)
}

t.test('npm run dev reads .env and restarts when it changes', async (t) => {
  const dir = await tempDir(t, 'freetier-dev-env-')
  await writeFile(join(dir, '.env'), 'MEMORY_LIMIT_MB=300\n')
  const proc = await startProcess(t, {
    cwd: dir,
    command: [
      process.execPath,
      '--import',
      import.meta.resolve('tsx'),
      join(ROOT, 'scripts', 'dev.ts'),
    ],
    env: { NODE_ENV: 'development' },
  })
  await proc.waitForLine(/"msg":"ready/, 90000)
  t.ok(proc.lines.includes('freetier dev: read .env (1 variables not already set)'))
  t.ok(proc.logs().some((l) => /^memory limit 300MB \(from MEMORY_LIMIT_MB\)/.test(String(l.msg))))

  await writeFile(join(dir, '.env'), 'MEMORY_LIMIT_MB=320\n')
  await proc.waitForLine(/^freetier dev: \.env changed; restarting$/, 30000)
  await proc.waitForLine(/"msg":"memory limit 320MB \(from MEMORY_LIMIT_MB\)/, 90000)
  // The old server closed before the new one started: an answer now comes from the new one.
  t.equal(await healthz(proc.url), 200, 'the restarted server answers')

  // A signal sent to the runner alone (not to the group) also drains the server once.
  proc.child.kill('SIGTERM')
  t.same(await proc.waitForExit(60000), { code: 0, signal: null })
  t.equal(proc.lines.filter((l) => l.includes('"msg":"closed"')).length, 2, 'closed: restart, end')
})

t.test('npm start (the bootstrap) outside production reads .env in its directory', async (t) => {
  const dir = await tempDir(t, 'freetier-dotenv-')
  await writeFile(join(dir, '.env'), `MEMORY_LIMIT_MB=300\nSTATUS_TOKEN=${TOKEN}\nPORT=1\n`)
  const proc = await startProcess(t, { cwd: dir, env: { NODE_ENV: 'development' } })
  await proc.waitForLine(/"msg":"ready/, 60000)
  t.match(proc.lines[0], /^freetier: read \.env \(2 variables not already set\)$/)
  t.match(proc.lines[1], /^freetier: memory limit 300MB \(from MEMORY_LIMIT_MB\)/)
  t.equal((await fetch(`${proc.url}/status`)).status, 401, 'STATUS_TOKEN from .env applies')
  t.ok(await getStatus(proc.url, TOKEN), 'PORT from the environment wins over .env')
})

t.test('in production the bootstrap does not read .env', async (t) => {
  const dir = await tempDir(t, 'freetier-dotenv-')
  await writeFile(join(dir, '.env'), `MEMORY_LIMIT_MB=300\nSTATUS_TOKEN=${TOKEN}\n`)
  const proc = await startProcess(t, {
    cwd: dir,
    env: { NODE_ENV: 'production', MEMORY_LIMIT_MB: '400' },
  })
  await proc.waitForLine(/"msg":"ready/, 60000)
  t.match(proc.lines[0], /^freetier: memory limit 400MB \(from MEMORY_LIMIT_MB\)/)
  t.notOk(
    proc.lines.some((l) => l.includes('.env')),
    'no word about .env',
  )
  t.equal((await fetch(`${proc.url}/status`)).status, 200, 'no STATUS_TOKEN from .env')
})
