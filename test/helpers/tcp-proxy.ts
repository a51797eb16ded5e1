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
 */
export interface TcpProxy {
  port: number
  cut(): Promise<void>
  restore(): Promise<void>
  hang(): void
}

export async function tcpProxy(t: Test, targetPort: number, targetHost = '127.0.0.1') {
  const sockets = new Set<Socket>()
  let hanging = false
  let server: Server | undefined
  let port = 0

  const listen = async () => {
    server = createServer((client) => {
      sockets.add(client)
      client.on('close', () => sockets.delete(client))
      client.on('error', () => {})
      if (hanging) {
        client.resume() // read and drop: the peer waits for an answer that never comes
        return
      }
      const upstream = connect(targetPort, targetHost)
      sockets.add(upstream)
      upstream.on('close', () => {
        sockets.delete(upstream)
        client.destroy()
      })
      upstream.on('error', () => client.destroy())
      client.on('close', () => upstream.destroy())
      client.pipe(upstream).pipe(client)
    })
    server.listen(port, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as { port: number }).port
  }

  const cut = async () => {
    const closing = server
    server = undefined
    for (const socket of sockets) socket.destroy()
    if (closing) await new Promise((resolve) => closing.close(resolve))
  }

  await listen()
  t.teardown(cut)
  return {
    get port() {
      return port
    },
    cut,
    restore: async () => {
      hanging = false
      if (!server) await listen()
    },
    hang: () => {
      hanging = true
      // Connections already open stall too: their bytes stop flowing both ways.
      for (const socket of sockets) {
        socket.unpipe()
        socket.removeAllListeners('data')
        socket.resume()
      }
    },
  } satisfies TcpProxy
}
