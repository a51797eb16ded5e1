import { getHeapStatistics } from 'node:v8'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Healthz, Readiness, Status, StatusHeaders, Unauthorized } from './health.schemas.js'

const MB = 1024 * 1024
const toMb = (bytes: number) => Math.round((bytes / MB) * 10) / 10

const health: FastifyPluginAsyncTypebox = async (app) => {
  const { config, memoryPlan: plan } = app
  const startedAt = new Date()

  app.get(
    '/healthz',
    {
      config: { shedding: false },
      logLevel: 'warn',
      schema: {
        tags: ['health'],
        summary: "Liveness for the platform's health check; never touches a dependency",
        response: { 200: Healthz },
      },
    },
    async () => ({ status: 'ok' as const }),
  )

  app.get(
    '/readyz',
    {
      config: { shedding: false },
      schema: {
        tags: ['health'],
        summary: 'Readiness: each dependency and its state; 503 while a required one is down',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const readiness = await app.probes.readiness()
      return reply.code(readiness.ready ? 200 : 503).send(readiness)
    },
  )

  app.get(
    '/status',
    {
      config: { shedding: false },
      schema: {
        tags: ['health'],
        summary: 'Memory plan, live usage, cache, pools and versions (bearer token if set)',
        headers: StatusHeaders,
        response: { 200: Status, 401: Unauthorized },
      },
    },
    async (request, reply) => {
      if (
        config.STATUS_TOKEN &&
        request.headers.authorization !== `Bearer ${config.STATUS_TOKEN}`
      ) {
        return reply.code(401).header('www-authenticate', 'Bearer').send({
          statusCode: 401,
          error: 'Unauthorized',
          message: 'a valid bearer token is required',
        })
      }
      const memory = process.memoryUsage()
      const heap = getHeapStatistics()
      return {
        uptimeSeconds: Math.round(process.uptime()),
        startedAt: startedAt.toISOString(),
        versions: { node: process.versions.node, v8: process.versions.v8, app: app.appVersion },
        memory: {
          plan,
          usageMb: {
            rss: toMb(memory.rss),
            heapUsed: toMb(memory.heapUsed),
            heapTotal: toMb(memory.heapTotal),
            external: toMb(memory.external),
            arrayBuffers: toMb(memory.arrayBuffers),
            heapLimit: toMb(heap.heap_size_limit),
          },
          heapSizeLimitBytes: heap.heap_size_limit,
          underPressure: app.pressure.pressure !== undefined,
          // How late load shedding's last once-a-second sample ran (ms): what it sheds on.
          eventLoopDelayMs: Math.round(app.pressure.readings.eventLoopDelayMs * 10) / 10,
        },
        ...(await app.probes.status()),
      }
    },
  )
}

export default health
