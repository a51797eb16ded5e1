import { Socket } from 'node:net'

/**
 * Real services for tests: DATABASE_URL / REDIS_URL, else the machine's default ports. Where one
 * is unreachable the caller falls back (Postgres: embedded) or skips with the reason printed;
 * REQUIRE_SERVICES=1 (CI) turns a missing service into a failure instead.
 */
export const requireServices = process.env.REQUIRE_SERVICES === '1'

function reachable(url: string, defaultPort: number, timeoutMs = 1000): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = new Socket()
    const finish = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => finish(false))
    socket.once('error', () => finish(false))
    socket.connect(Number(port || defaultPort), hostname.replace(/^\[|\]$/g, ''), () =>
      finish(true),
    )
  })
}

async function service(
  name: string,
  url: string,
  defaultPort: number,
): Promise<{ url?: string; skip?: string }> {
  if (await reachable(url, defaultPort)) return { url }
  const reason = `${name} not reachable at ${url}`
  if (requireServices) throw new Error(`${reason} and REQUIRE_SERVICES=1`)
  return { skip: reason }
}

export const postgres = () =>
  service('Postgres', process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', 5432)

export const redis = () => service('Redis', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 6379)
