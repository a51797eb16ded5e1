import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import type { Test } from 'tap'

/**
 * A TCP proxy the test controls, in front of a real service, to simulate its outage without
 * touching the shared instance:
 *
 *   const proxy = await tcpProxy(t, 5432)      // 127.0.0.1:<proxy.port> -> 127.0.0.1:5432
 *   await proxy.cut()      // drops every connection and refuses new ones (service down)
 *   await proxy.restore()  // listens again on the same port (service back)
 *   proxy.hang()           // accepts and reads, never answers (service stalled)
 *
 * Single connections can be told apart by what their client sent first (a Redis connection
 * name, say): `hang('…:invalidation')` stalls only those, `hold('subscribe')` keeps every byte a
 * client sends from the first one containing the text until `release()`.
 */
export interface TcpProxy {
  port: number
  cut(): Promise<void>
  restore(): Promise<void>
  /** Stalls every connection (or those whose first bytes contain `match`), and new ones. */
  hang(match?: string): void
  /** Holds client bytes from the first chunk containing `match` (any case) on. */
  hold(match: string): void
  /** Sends what was held and stops holding. */
  release(): void
  /** How many chunks are being held. */
  readonly held: number
}

interface Link {
  client: Socket
  upstream: Socket
  /** What the client sent first. */
  hello: string
  hung: boolean
  held: Buffer[] | null
}

export async function tcpProxy(t: Test, targetPort: number, targetHost = '127.0.0.1') {
  const links = new Set<Link>()
  let hangingAll = false
  let hangMatch: string | undefined
  let holdMatch: string | undefined
  let server: Server | undefined
  let port = 0

  const stall = (link: Link) => {
    link.hung = true
    link.upstream.unpipe(link.client)
    link.upstream.removeAllListeners('data')
    link.upstream.resume() // read and drop: the client waits for an answer that never comes
  }

  const listen = async () => {
    server = createServer((client) => {
      const upstream = connect(targetPort, targetHost)
      const link: Link = { client, upstream, hello: '', hung: hangingAll, held: null }
      links.add(link)
      client.on('error', () => {})
      upstream.on('error', () => client.destroy())
      client.on('close', () => {
        links.delete(link)
        upstream.destroy()
      })
      upstream.on('close', () => client.destroy())
      client.on('data', (chunk: Buffer) => {
        const text = chunk.toString('latin1')
        if (!link.hello) {
          link.hello = text
          if (hangMatch !== undefined && text.includes(hangMatch)) stall(link)
        }
        if (link.hung) return
        if (!link.held && holdMatch && text.toLowerCase().includes(holdMatch)) link.held = []
        if (link.held) link.held.push(chunk)
        else upstream.write(chunk)
      })
      if (link.hung) stall(link)
      else upstream.pipe(client)
    })
    server.listen(port, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as { port: number }).port
  }

  const cut = async () => {
    const closing = server
    server = undefined
    for (const link of links) {
      link.client.destroy()
      link.upstream.destroy()
    }
    if (closing) await new Promise((resolve) => closing.close(resolve))
  }

  await listen()
  t.teardown(cut)
  return {
    get port() {
      return port
    },
    get held() {
      let count = 0
      for (const link of links) count += link.held?.length ?? 0
      return count
    },
    cut,
    restore: async () => {
      hangingAll = false
      hangMatch = undefined
      if (!server) await listen()
    },
    hang: (match?: string) => {
      if (match === undefined) hangingAll = true
      else hangMatch = match
      for (const link of links) if (match === undefined || link.hello.includes(match)) stall(link)
    },
    hold: (match: string) => {
      holdMatch = match.toLowerCase()
    },
    release: () => {
      holdMatch = undefined
      for (const link of links) {
        const held = link.held
        link.held = null
        for (const chunk of held ?? []) link.upstream.write(chunk)
      }
    },
  } satisfies TcpProxy
}
