import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import { CircuitBreaker } from '../redis/breaker.js'

/** Asking for more connections than REDIS_MAX_CONNECTIONS allows. */
export class RedisBudgetError extends Error {
  constructor(budget: number, role: string, open: string[]) {
    super(
      `REDIS_MAX_CONNECTIONS=${budget} reached: cannot open Redis connection "${role}" ` +
        `(open: ${open.join(', ')}); raise REDIS_MAX_CONNECTIONS or use fewer connections`,
    )
    this.name = 'RedisBudgetError'
  }
}

export interface RedisConnections {
  /** Unique per app instance; part of every connection name and of invalidation messages. */
  readonly instanceId: string
  /** REDIS_KEY_PREFIX: every key, channel and connection name starts with it. */
  readonly prefix: string
  readonly budget: number
  /**
   * Opens a named connection (it starts connecting at once) counted against the budget.
   * Throws RedisBudgetError rather than exceed it.
   */
  open(role: string): Redis
  /**
   * Runs Redis work behind the circuit breaker: fails at once (CircuitOpenError) while the
   * circuit is open, and opens it on a timeout or a connection error.
   */
  guard<T>(work: () => Promise<T>): Promise<T>
  /** True when the circuit is closed and `client` is connected. */
  usable(client: Redis): boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Redis connections; null when REDIS_URL is not set. */
    redis: RedisConnections | null
  }
}

/** After a failure, Redis is left alone this long before one trial command. */
export const BREAKER_OPEN_MS = 2000
const RECONNECT_MAX_DELAY_MS = 2000
const CLOSE_GRACE_MS = 500

/** A reply error means Redis answered: the connection is fine, the circuit stays closed. */
const isOutage = (error: unknown) => (error as Error | undefined)?.name !== 'ReplyError'

/** host:port only: the URL may carry a password. */
function describeUrl(url: string) {
  const { protocol, hostname, port } = new URL(url)
  return `${protocol}//${hostname}:${port || 6379}`
}

async function redis(app: FastifyInstance) {
  const { config } = app
  if (!config.REDIS_URL) {
    app.decorate('redis', null)
    return
  }
  const url = config.REDIS_URL
  const instanceId = `${process.pid}-${randomBytes(3).toString('hex')}`
  const breaker = new CircuitBreaker(BREAKER_OPEN_MS, isOutage)
  const clients = new Map<string, Redis>()
  const log = app.log.child({ redis: describeUrl(url) })
  const stallMs = Math.max(1000, config.REDIS_COMMAND_TIMEOUT_MS * 4)

  let started = false
  const dial = (client: Redis) =>
    client.connect().catch(() => {
      // Reported by the 'error' listener; the retry strategy keeps trying.
    })

  function open(role: string): Redis {
    const name = `${config.REDIS_KEY_PREFIX}:${instanceId}:${role}`
    if (clients.has(name)) throw new Error(`Redis connection "${role}" is already open`)
    if (clients.size >= config.REDIS_MAX_CONNECTIONS) {
      throw new RedisBudgetError(config.REDIS_MAX_CONNECTIONS, role, [...clients.keys()])
    }
    const client = new Redis(url, {
      connectionName: name,
      // Fail fast: no queue while disconnected, one retry, a command never waits long.
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // The command timeout applies from 'ready' on (below), not to the handshake.
      connectTimeout: stallMs,
      // A server that stops answering (hung, not closed) gets its socket dropped and redialled.
      socketTimeout: stallMs,
      // Keep reconnecting for as long as the process lives.
      retryStrategy: (times) => Math.min(times * 100, RECONNECT_MAX_DELAY_MS),
    })
    clients.set(name, client)
    // Log transitions, not every failed reconnect attempt.
    let state: 'starting' | 'up' | 'down' = 'starting'
    // Without an 'error' listener a dropped connection would crash the process.
    client.on('error', (error) => {
      if (state === 'down') return log.debug({ connection: role, err: error }, 'redis still down')
      log.warn(
        { connection: role, err: error },
        state === 'up' ? 'redis connection lost; reconnecting' : 'redis unreachable; retrying',
      )
      state = 'down'
    })
    // The handshake (CLIENT SETNAME, the ready check) waits without the command timeout: at 0.1
    // CPU its replies can sit in the socket while this process waits for its next CPU slice,
    // longer than a command may take, and a start was logged as "redis unreachable". A hung
    // server is still caught, by the stall timeout. ioredis reads the option at every command.
    client.on('ready', () => {
      client.options.commandTimeout = config.REDIS_COMMAND_TIMEOUT_MS
      state = 'up'
      log.info({ connection: role }, 'redis connection ready')
    })
    // A dropped connection opens the circuit at once: no request has to time out to learn it.
    client.on('close', () => {
      client.options.commandTimeout = undefined
      if (state === 'up') {
        breaker.trip(new Error(`connection ${role} closed`))
        state = 'down'
      }
    })
    // Connections opened while the app registers dial once it is ready, so a start that fails
    // (e.g. over budget) leaves no socket behind.
    if (started) dial(client)
    return client
  }

  const connections: RedisConnections = {
    instanceId,
    prefix: config.REDIS_KEY_PREFIX,
    budget: config.REDIS_MAX_CONNECTIONS,
    open,
    guard: (work) => breaker.run(work),
    usable: (client) => client.status === 'ready' && breaker.state !== 'open',
  }
  app.decorate('redis', connections)

  const states = () =>
    [...clients].map(([name, client]) => ({ name, status: client.status as string }))

  // Give connections opened during registration one attempt before the app serves: instant
  // when Redis is up or refuses; bounded by the connect/command timeouts when it hangs.
  app.addHook('onReady', async () => {
    started = true
    for (const client of clients.values()) dial(client)
    await Promise.race([
      Promise.all(
        [...clients.values()].map(
          (client) =>
            new Promise<void>((resolve) => {
              if (client.status === 'ready') return resolve()
              client.once('ready', () => resolve())
              client.once('close', () => resolve())
            }),
        ),
      ),
      new Promise((resolve) => setTimeout(resolve, config.REDIS_COMMAND_TIMEOUT_MS * 2).unref()),
    ])
  })

  app.probes.addReadiness(
    'redis',
    async () => {
      const down = states().filter((s) => s.status !== 'ready')
      if (down.length > 0) {
        return { status: 'down', error: down.map((s) => `${s.name} ${s.status}`).join(', ') }
      }
      if (breaker.state === 'open') return { status: 'down', error: 'circuit open' }
      return { status: 'up' }
    },
    { required: false },
  )
  app.probes.addStatus('redis', () => ({
    url: describeUrl(url),
    instanceId,
    budget: config.REDIS_MAX_CONNECTIONS,
    commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
    connections: states(),
    breaker: breaker.stats(),
  }))

  app.addHook('onClose', async () => {
    await Promise.all(
      [...clients.values()].map(async (client) => {
        // Never dialled (the app did not get ready): a command now would open a socket.
        if (client.status === 'wait') return client.disconnect()
        const timer = setTimeout(() => client.disconnect(), CLOSE_GRACE_MS)
        try {
          await client.quit()
        } catch {
          client.disconnect()
        } finally {
          clearTimeout(timer)
        }
      }),
    )
    clients.clear()
  })
}

export default fp(redis, { name: 'redis', dependencies: ['probes'] })
