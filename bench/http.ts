import { request } from 'node:http'
import { connect } from 'node:net'

export interface HttpResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** One HTTP request on a fresh connection (no keep-alive, so nothing lingers between phases). */
export function send(
  url: string,
  options: { method?: string; json?: unknown; timeoutMs?: number } = {},
): Promise<HttpResponse> {
  const payload = options.json === undefined ? undefined : JSON.stringify(options.json)
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        agent: false,
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {},
        timeout: options.timeoutMs ?? 10_000,
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
        res.on('error', reject)
      },
    )
    req.on('timeout', () =>
      req.destroy(new Error(`timeout after ${options.timeoutMs ?? 10_000}ms`)),
    )
    req.on('error', reject)
    req.end(payload)
  })
}

/** Whether something accepts TCP connections at the URL's host and port. */
export function tcpReachable(url: string, defaultPort: number, timeoutMs = 1000): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect(Number(port || defaultPort), hostname.replace(/^\[|\]$/g, ''))
    const finish = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => finish(false))
    socket.once('error', () => finish(false))
    socket.once('connect', () => finish(true))
  })
}
