import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { getStatus } from '../helpers/http.js'
import { ROOT, startProcess } from '../helpers/process.js'

/**
 * The development loop end to end, with real processes: `npm run dev` and `npm start`'s
 * bootstrap, their .env, one Ctrl-C.
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

function alive(pid: number) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

t.test(
  'npm run dev: one Ctrl-C to the process group drains in-flight requests and closes everything once',
  async (t) => {
    const dataDir = await tempDir(t, 'freetier-dev-')
    // Like a terminal: npm in a process group of its own, and the signal sent to the group.
    const proc = await startProcess(t, {
      command: ['npm', 'run', 'dev'],
      env: { DATABASE_URL: '', PGLITE_DATA_DIR: dataDir, HOME: process.env.HOME ?? '' },
    })
    await proc.waitForLine(/"msg":"ready/, 120000)
    const serverPid = proc.logs().find((l) => l.msg === 'ready')?.pid as number
    t.teardown(() => {
      if (alive(serverPid)) process.kill(serverPid, 'SIGKILL')
    })
    t.ok(existsSync(join(dataDir, 'freetier.lock')), 'the embedded database is open')

    // A request in flight: headers in (the server answered 100-continue), body not yet sent.
    const body = JSON.stringify({ title: 'in flight', body: 'sent after Ctrl-C' })
    const socket = connect(proc.port, '127.0.0.1')
    t.teardown(() => socket.destroy())
    let received = ''
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      received += chunk
    })
    await once(socket, 'connect')
    socket.write(
      `POST /api/notes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
    )
    // The next chunk from the server; a closed connection fails the test instead of hanging it.
    const more = () =>
      new Promise<void>((resolve, reject) => {
        const settle = (error?: Error) => {
          socket.off('data', onData).off('close', onClose)
          if (error) reject(error)
          else resolve()
        }
        const onData = () => settle()
        const onClose = () =>
          settle(new Error(`the server closed the connection; got ${JSON.stringify(received)}`))
        socket.once('data', onData).once('close', onClose)
      })
    while (!received.includes('100 Continue')) await more()

    process.kill(-(proc.child.pid as number), 'SIGINT')
    await proc.waitForLine(/"msg":"shutting down/, 30000)
    // Held past the 5 s after which \`tsx watch\` used to SIGKILL a server that was draining.
    await new Promise((resolve) => setTimeout(resolve, 6000))
    // write, not end: a client that half-closes aborts its own request.
    socket.write(body)
    while (!/\r\n\r\n/.test(received.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, ''))) {
      await more()
    }
    t.match(received, /HTTP\/1\.1 201 Created/, 'the in-flight request completed')
    socket.end()

    await proc.waitForExit(60000)
    const messages = proc.logs().map((l) => String(l.msg))
    t.equal(messages.filter((m) => m.startsWith('shutting down')).length, 1, 'one shutdown')
    t.notOk(
      proc.lines.some((l) => /second SIG/.test(l)),
      'no "second signal" exit',
    )
    t.ok(messages.includes('closed'), 'the app closed every plugin')
    t.notOk(existsSync(join(dataDir, 'freetier.lock')), 'the embedded database was closed')
    t.notOk(alive(serverPid), 'no server left behind')
  },
)

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
