import { connect } from 'node:net'
import t from 'tap'
import { startServer } from '../helpers/process.js'

/** Writes raw HTTP/1.1 on one socket, so a request can be queued behind one in flight. */
function rawClient(port: number) {
  const socket = connect(port, '127.0.0.1')
  let received = ''
  socket.setEncoding('utf8')
  socket.on('data', (d: string) => {
    received += d
  })
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(received)))
  socket.on('error', () => {})
  return {
    send: (path: string) => socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`),
    closed,
  }
}

const statusLines = (raw: string) =>
  [...raw.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]))

t.test('SIGTERM: the request in flight finishes, the next gets 503, exit 0', async (t) => {
  const proc = await startServer(t, {}, { testRoutes: true })
  const client = rawClient(proc.port)
  client.send('/__test/slow?ms=4000')
  await proc.waitForLine(/slow request started/)
  proc.child.kill('SIGTERM')
  await proc.waitForLine(/shutting down/)
  // Pipelined behind the slow one: it is read only after the server started closing.
  client.send('/healthz')
  const raw = await client.closed
  t.same(statusLines(raw), [200, 503], 'in-flight 200, then 503 while closing')
  t.match(raw, /"sleptMs":4000/)
  const { code } = await proc.waitForExit()
  t.equal(code, 0)
  const refused = await fetch(`${proc.url}/healthz`).then(
    () => 'answered',
    () => 'refused',
  )
  t.equal(refused, 'refused', 'no longer listening')
})

t.test('a request longer than the shutdown budget: exit 1 once the budget runs out', async (t) => {
  const proc = await startServer(t, { SHUTDOWN_TIMEOUT_MS: '1000' }, { testRoutes: true })
  const pending = fetch(`${proc.url}/__test/slow?ms=20000`).catch(() => 'cut')
  await proc.waitForLine(/slow request started/)
  proc.child.kill('SIGTERM')
  const { code } = await proc.waitForExit()
  t.equal(code, 1)
  t.match(proc.lines.join('\n'), /killed by timeout \(1000ms\)/)
  t.equal(await pending, 'cut')
})

t.test('a second signal exits at once', async (t) => {
  const proc = await startServer(t, {}, { testRoutes: true })
  const pending = fetch(`${proc.url}/__test/slow?ms=20000`).catch(() => 'cut')
  await proc.waitForLine(/slow request started/)
  proc.child.kill('SIGTERM')
  await proc.waitForLine(/shutting down/)
  proc.child.kill('SIGINT')
  const { code } = await proc.waitForExit()
  t.equal(code, 1)
  t.match(proc.lines.join('\n'), /second SIGINT, exiting/)
  t.equal(await pending, 'cut')
})
