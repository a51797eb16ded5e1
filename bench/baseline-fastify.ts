/**
 * Baseline: a bare Fastify hello-world on the same Node, answering the same /healthz body. No
 * logger, no plugins: what every ratio of the report is divided by.
 */
import Fastify from 'fastify'
import { HOST, PORT, ready } from './baseline-ready.js'

const app = Fastify()
app.get('/healthz', async () => ({ status: 'ok' }))

await app.listen({ host: HOST, port: PORT })
await app.inject({ method: 'GET', url: '/healthz' })
ready('bare Fastify', () => app.close())
