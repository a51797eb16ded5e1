import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { freePort } from '../../scripts/process-io.js'
import { HELP } from '../args.js'
import { send, tcpReachable } from '../http.js'

const BENCH = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli.js')

t.test('the bench CLI: --help prints the usage, bad flags exit 2 with the reason', async (t) => {
  // Without NODE_V8_COVERAGE: the orchestration is exercised by the CI smoke run, not here.
  const env = { PATH: process.env.PATH }
  const help = spawnSync(process.execPath, [BENCH, '--help'], { encoding: 'utf8', env })
  t.equal(help.status, 0)
  t.equal(help.stdout, HELP)
  const bad = spawnSync(process.execPath, [BENCH, '--duration', 'soon'], {
    encoding: 'utf8',
    env,
  })
  t.equal(bad.status, 2)
  t.match(bad.stderr, /bench: --duration: got "soon"/)
  t.match(bad.stderr, /Usage: npm run bench/)
  t.equal(bad.stdout, '', 'nothing ran')
})

t.test('the HTTP helpers against a real server', async (t) => {
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => {
      body += chunk
    })
    req.on('end', () => {
      if (req.url === '/hang') return
      setTimeout(() => {
        res.writeHead(req.method === 'POST' ? 201 : 200, { 'x-cache': 'l1' })
        res.end(JSON.stringify({ method: req.method, url: req.url, body }))
      }, 5)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`

  const posted = await send(`${origin}/api/notes`, { method: 'POST', json: { title: 'é' } })
  t.equal(posted.status, 201)
  t.equal(posted.headers['x-cache'], 'l1')
  t.same(JSON.parse(posted.body), { method: 'POST', url: '/api/notes', body: '{"title":"é"}' })
  await t.rejects(send(`${origin}/hang`, { timeoutMs: 50 }), /timeout after 50ms/)

  t.equal(await tcpReachable(origin, 80), true)
  t.equal(await tcpReachable(`http://127.0.0.1:${await freePort()}`, 80), false)
})
