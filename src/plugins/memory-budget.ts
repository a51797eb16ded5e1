import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
  onSendHookHandler,
} from 'fastify'
import fp from 'fastify-plugin'
import { DependencyUnavailableError } from '../errors.js'
import { type Lease, MemoryBudget } from '../memory-budget.js'
import { hookFirst } from '../route-hooks.js'

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
/**
 * Responses below this size take no lease. Node hands them to the socket in the call that sends
 * them, and the kernel's send buffer (16 KB by default, more under autotuning) takes them whole,
 * so they hold no process memory past that call; counting them cost every request two hooks, a
 * listener and a promise (~1 µs, 4% of an L1 hit).
 */
export const UNLEASED_RESPONSE_BYTES = 16 * 1024
const kLease = Symbol('freetier.memoryLease')
const kReply = Symbol('freetier.memoryLeaseReply')

interface Leased {
  [kLease]: Lease | null
  [kReply]: FastifyReply | null
}

/**
 * Admits requests against the memory plan's in-flight budget, by bytes: a request body by its
 * length before it is read, a load by the upper bound its route reserves (`reserveMemory`), a
 * successful response body of UNLEASED_RESPONSE_BYTES or more by its size before a byte of it is
 * written (a stream by its declared content-length: see declaredLength). What does not fit gets
 * 503 + Retry-After; the bytes are held until the response is sent (or the client goes away),
 * which is when the memory they stand for can be collected. Routes with `config.shedding: false`
 * (the probes) are never counted or refused, nor are the small answers of routes added before
 * this plugin and of no route at all (404).
 */
async function memoryBudget(app: FastifyInstance) {
  const { memoryPlan: plan } = app
  const budget = new MemoryBudget(plan.inFlightBytes, plan.shedHeapUsedBytes)
  const serverBodyLimit = app.initialConfig.bodyLimit ?? 0
  app.decorate('memoryBudget', budget)
  app.probes.addStatus('memoryBudget', () => budget.status())
  app.decorateRequest(kLease as unknown as string, null)
  app.decorateRequest(kReply as unknown as string, null)

  const refusal = (bytes: number, what: string) =>
    new DependencyUnavailableError(
      DEPENDENCY,
      `${what} of ${bytes} bytes does not fit in the memory for work in flight now; retry later`,
      RETRY_AFTER_SECONDS,
    )
  /** The request's lease, made on first use and released when its response closes. */
  const leaseOf = (request: Leased, reply: FastifyReply): Lease => {
    let lease = request[kLease]
    if (lease === null) {
      const made: Lease = { bytes: 0 }
      reply.raw.once('close', () => budget.release(made))
      request[kLease] = made
      lease = made
    }
    return lease
  }
  const reserve = (request: Leased, reply: FastifyReply, bytes: number, what: string) => {
    if (!budget.resize(leaseOf(request, reply), bytes)) throw refusal(bytes, what)
  }

  app.decorateRequest('reserveMemory', function (this: FastifyRequest, bytes: number) {
    const leased = this as FastifyRequest & Leased
    const reply = leased[kReply]
    if (reply !== null) reserve(leased, reply, bytes, 'a load')
  })

  const admitBody =
    (bodyLimit: number): onRequestHookHandler =>
    (request, reply, done) => {
      const leased = request as FastifyRequest & Leased
      leased[kReply] = reply
      const bytes = bodyBytes(request, bodyLimit)
      if (bytes === 0) return done()
      try {
        reserve(leased, reply, bytes, 'a request body')
        done()
      } catch (error) {
        done(error as Error)
      }
    }

  const admitResponse: onSendHookHandler = (request, reply, payload, done) => {
    const leased = request as FastifyRequest & Leased
    const bytes = payloadBytes(payload, reply)
    const lease = leased[kLease]
    if (lease === null && bytes < UNLEASED_RESPONSE_BYTES) return done(null, payload)
    // Error bodies are small and must go out; a refusal here becomes one of them.
    if (reply.statusCode >= 300) {
      if (lease !== null) budget.resize(lease, Math.min(bytes, lease.bytes))
      return done(null, payload)
    }
    try {
      reserve(leased, reply, bytes, 'a response')
      done(null, payload)
    } catch (error) {
      done(error as Error)
    }
  }

  // Decided per route when it is added: the probes (`shedding: false`) get neither hook.
  app.addHook('onRoute', (route) => {
    if (route.config?.shedding === false) return
    route.onRequest = hookFirst(route.onRequest, admitBody(route.bodyLimit ?? serverBodyLimit))
    route.onSend = hookFirst(route.onSend, admitResponse)
  })
}

function payloadBytes(payload: unknown, reply: FastifyReply): number {
  if (typeof payload === 'string') {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: most payloads are decided without counting.
    return payload.length * 3 < UNLEASED_RESPONSE_BYTES
      ? payload.length
      : Buffer.byteLength(payload)
  }
  if (Buffer.isBuffer(payload)) return payload.length
  return payload == null ? 0 : declaredLength(reply)
}

/**
 * A stream is not counted as it flows: it holds what its route set as content-length (a route
 * that streams a large body sets it, or reserves with `reserveMemory` first), else nothing.
 */
function declaredLength(reply: FastifyReply): number {
  return Number(reply.getHeader('content-length')) || 0
}

/** What reading the body will hold: its declared length, or the body limit when unknown. */
function bodyBytes(request: FastifyRequest, bodyLimit: number): number {
  const length = request.headers['content-length']
  if (length !== undefined) return Math.min(Number(length) || 0, bodyLimit)
  return request.headers['transfer-encoding'] === undefined ? 0 : bodyLimit
}

export default fp(memoryBudget, { name: 'memory-budget', dependencies: ['probes'] })
