import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { freePort } from './process.js'
import { waitFor } from './wait.js'

/** A key prefix / channel / connection-name prefix of its own for one test. */
export const randomPrefix = () => `t${randomBytes(5).toString('hex')}`

/** A plain client for the test itself (outside any app's connection budget). */
export function testClient(t: Test, url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true })
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  return client
}

/** Names of the connections Redis sees whose name starts with `prefix:`. */
export async function clientNames(client: Redis, prefix: string): Promise<string[]> {
  const list = (await client.call('CLIENT', 'LIST')) as string
  return list
    .split('\n')
    .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
    .filter((name) => name.startsWith(`${prefix}:`))
}

export interface OwnRedis {
  url: string
  port: number
  start(): Promise<void>
  /** SIGKILL: the connections drop at once, like a crashed server. */
  kill(): Promise<void>
  /** SIGSTOP / SIGCONT: connections stay open and nothing answers, like a hung server. */
  pause(): void
  resume(): void
}

/**
 * A private redis-server on a free port (no persistence) that the test may kill and restart;
 * the machine's shared Redis is never touched. Stopped at teardown.
 */
export async function ownRedis(t: Test): Promise<OwnRedis> {
  const port = await freePort()
  let child: ChildProcess | undefined
  const own: OwnRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      )
      const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null })
      probe.on('error', () => {})
      for (let i = 0; i < 100; i++) {
        try {
          await probe.connect()
          await probe.ping()
          probe.disconnect()
          return
        } catch {
          await sleep(50)
        }
      }
      throw new Error(`redis-server on port ${port} did not start`)
    },
    pause() {
      child?.kill('SIGSTOP')
    },
    resume() {
      child?.kill('SIGCONT')
    },
    async kill() {
      // Already gone (killed by a signal leaves exitCode null): 'exit' will not come again.
      if (!child || child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGCONT')
      child.kill('SIGKILL')
      await exited
    },
  }
  t.teardown(() => own.kill())
  await own.start()
  return own
}

/** A TCP server that accepts connections and never answers: a hung Redis. */
export async function hungRedis(t: Test): Promise<string> {
  const sockets = new Set<Socket>()
  let closed = false
  const server = createServer((socket) => {
    // Neither the server nor its sockets may keep the test process alive.
    socket.unref()
    if (closed) return socket.destroy()
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  server.unref()
  await once(server, 'listening')
  t.teardown(async () => {
    closed = true
    for (const socket of sockets) socket.destroy()
    server.close()
  })
  return `redis://127.0.0.1:${(server.address() as { port: number }).port}`
}

/**
 * Waits until each of these instances (same REDIS_KEY_PREFIX) has met every other: on meeting a
 * peer an instance clears its L1 (invalidations may have been missed), so an assertion on L1
 * made before that can see it emptied, on a busy machine, by a heartbeat check in between.
 */
export async function acquainted(...apps: Array<{ stats: () => Promise<CacheStats> }>) {
  await waitFor(async () => {
    for (const app of apps) {
      if ((await app.stats()).coherence?.peers !== apps.length - 1) return false
    }
    return true
  }, 'the instances to meet each other')
}

type CacheStats = { coherence?: { peers: number } }
