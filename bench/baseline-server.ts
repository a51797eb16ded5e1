/**
 * The baseline: a bare Fastify hello-world on the same Node, answering the same /healthz body.
 * It follows the app's start-up steps that matter for the comparison (listen, one warm request,
 * one full GC when --expose-gc is given, then the same "ready" line), and nothing else: no
 * logger, no plugins.
 */
import Fastify from 'fastify'

const app = Fastify()
app.get('/healthz', async () => ({ status: 'ok' }))

await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 3000) })
await app.inject({ method: 'GET', url: '/healthz' })
const gc = (globalThis as { gc?: () => void }).gc
setImmediate(() => {
  gc?.()
  process.stdout.write(
    `baseline: ready (after post-start gc${gc ? '' : ': none, no --expose-gc'})\n`,
  )
})
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0))
  })
}
