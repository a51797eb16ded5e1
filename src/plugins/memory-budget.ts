import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { DependencyUnavailableError } from '../errors.js'
import { type Lease, MemoryBudget } from '../memory-budget.js'

declare module 'fastify' {
  interface FastifyInstance {
    memoryBudget: MemoryBudget
  }
  interface FastifyRequest {
    /**
     * Holds `bytes` of the in-flight budget for this request (replacing what it held) until its
     * response is sent or dropped. Call it before a load that may be large, with an upper bound
     * of what the load brings into memory. Throws a 503 (`dependency: "memory"`) when they do
     * not fit.
     */
    reserveMemory(bytes: number): void
  }
}

const RETRY_AFTER_SECONDS = 2
const DEPENDENCY = 'memory'
const leases = new WeakMap<FastifyRequest, Lease>()

/**
 * Admits requests against the memory plan's in-flight budget, by bytes: a request body by its
 * length before it is read, a load by the upper bound its route reserves (`reserveMemory`), a
 * successful response body by its size before a byte of it is written. What does not fit gets
 * 503 + Retry-After; the bytes are held until the response is sent (or the client goes away),
 * which is when the memory they stand for can be collected. Routes with `config.shedding: false`
 * (the probes) are never counted or refused.
 */
async function memoryBudget(app: FastifyInstance) {
  const { memoryPlan: plan } = app
  const budget = new MemoryBudget(plan.inFlightBytes, plan.shedHeapUsedBytes)
  app.decorate('memoryBudget', budget)
  app.probes.addStatus('memoryBudget', () => budget.status())

  const refusal = (bytes: number, what: string) =>
    new DependencyUnavailableError(
      DEPENDENCY,
      `${what} of ${bytes} bytes does not fit in the memory for work in flight now; retry later`,
      RETRY_AFTER_SECONDS,
    )
  const reserve = (request: FastifyRequest, bytes: number, what: string) => {
    const lease = leases.get(request)
    if (lease && !budget.resize(lease, bytes)) throw refusal(bytes, what)
  }

  app.decorateRequest('reserveMemory', function (this: FastifyRequest, bytes: number) {
    reserve(this, bytes, 'a load')
  })

  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.shedding === false) return
    const lease: Lease = { bytes: 0 }
    leases.set(request, lease)
    reply.raw.once('close', () => budget.release(lease))
    reserve(request, bodyBytes(request, app.initialConfig.bodyLimit ?? 0), 'a request body')
  })

  app.addHook('onSend', async (request, reply: FastifyReply, payload) => {
    const lease = leases.get(request)
    if (lease === undefined) return payload
    const bytes =
      typeof payload === 'string'
        ? Buffer.byteLength(payload)
        : Buffer.isBuffer(payload)
          ? payload.length
          : 0
    // Error bodies are small and must go out; a refusal here becomes one of them.
    if (reply.statusCode >= 300) {
      budget.resize(lease, Math.min(bytes, lease.bytes))
      return payload
    }
    reserve(request, bytes, 'a response')
    return payload
  })

  app.addHook('onResponse', async (request) => {
    const lease = leases.get(request)
    if (lease) budget.release(lease)
  })
}

/** What reading the body will hold: its declared length, or the body limit when unknown. */
function bodyBytes(request: FastifyRequest, bodyLimit: number): number {
  const length = request.headers['content-length']
  if (length !== undefined) return Math.min(Number(length) || 0, bodyLimit)
  return request.headers['transfer-encoding'] === undefined ? 0 : bodyLimit
}

export default fp(memoryBudget, { name: 'memory-budget', dependencies: ['probes'] })
