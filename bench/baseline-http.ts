/** Baseline: bare node:http on the same Node, answering the same /healthz body: the floor. */
import { createServer } from 'node:http'
import { HOST, PORT, ready } from './baseline-ready.js'

const body = JSON.stringify({ status: 'ok' })
const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
    res.end(body)
  } else {
    res.writeHead(404).end()
  }
})
server.listen(PORT, HOST, () => {
  ready(
    'bare node:http',
    () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  )
})
