/**
 * Baseline: bare Fastify answering each path with the response the app gave to it, recorded by
 * the bench (REPLAY_FILE): the same status, headers and body, sent through Fastify's reply the
 * way the app sends a cached read. Against it, the app's figures show what its own work costs,
 * apart from what its responses cost to send.
 */
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import { HOST, PORT, ready } from './baseline-ready.js'
import type { RecordedResponse } from './replay.js'

const file = process.env.REPLAY_FILE
if (!file) throw new Error('REPLAY_FILE: the responses to replay (the bench writes it)')
const recorded = new Map<string, RecordedResponse>(
  Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, RecordedResponse>),
)

const app = Fastify()
app.get('/healthz', async () => ({ status: 'ok' }))
app.get('/*', (request, reply) => {
  const response = recorded.get(request.url)
  if (response === undefined) return reply.code(404).send()
  return reply.code(response.status).headers(response.headers).send(response.body)
})

await app.listen({ host: HOST, port: PORT })
await app.inject({ method: 'GET', url: '/healthz' })
ready('bare Fastify replaying the app', () => app.close())
