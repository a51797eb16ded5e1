import { setTimeout as sleep } from 'node:timers/promises'
import { getHeapStatistics } from 'node:v8'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'

/**
 * Test-only routes for process-level tests (leak guard, load shedding, graceful shutdown).
 * Registered only when TEST_ROUTES=true, which config refuses in production.
 */
const testRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const retained: unknown[] = []
  let retainedMb = 0

  app.post(
    '/__test/leak',
    {
      config: { shedding: false },
      schema: {
        querystring: Type.Object({
          mb: Type.Integer({ minimum: 1, maximum: 64, default: 8 }),
          // heap: JS arrays (what the leak guard watches); buffer: off-heap, RSS only.
          kind: Type.Enum(['heap', 'buffer'], { default: 'heap' }),
        }),
        response: {
          // heapUsedBytes: live heap after a full GC (the bootstrap exposes gc), as the guard sees it.
          200: Type.Object({ retainedMb: Type.Integer(), heapUsedBytes: Type.Integer() }),
        },
      },
    },
    async (request) => {
      const { mb, kind } = request.query
      if (kind === 'buffer') {
        retained.push(Buffer.alloc(mb * 1024 * 1024, 1))
      } else {
        // Unboxed doubles: 8 bytes each on the V8 heap, so 1 MB asked is 1 MB retained.
        for (let i = 0; i < mb; i++)
          retained.push(Array.from({ length: 131072 }, (_, k) => k + 0.5))
      }
      retainedMb += mb
      ;(globalThis as { gc?: () => void }).gc?.()
      return { retainedMb, heapUsedBytes: getHeapStatistics().used_heap_size }
    },
  )

  app.get(
    '/__test/slow',
    {
      schema: {
        querystring: Type.Object({ ms: Type.Integer({ minimum: 0, maximum: 60000 }) }),
        response: { 200: Type.Object({ sleptMs: Type.Integer() }) },
      },
    },
    async (request) => {
      await sleep(request.query.ms)
      return { sleptMs: request.query.ms }
    },
  )

  app.get(
    '/__test/work',
    { schema: { response: { 200: Type.Object({ ok: Type.Boolean() }) } } },
    async () => ({ ok: true }),
  )
}

export default testRoutes
