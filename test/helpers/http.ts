import type { Test } from 'tap'

/** The parts of GET /status that process tests read. */
export interface StatusBody {
  memory: {
    heapSizeLimitBytes: number
    underPressure: boolean
    usageMb: { rss: number }
    plan: { shedRssBytes: number }
  }
  [section: string]: unknown
}

export async function getStatus(baseUrl: string, token?: string): Promise<StatusBody> {
  const res = await fetch(`${baseUrl}/status`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  })
  if (res.status !== 200) throw new Error(`GET /status answered ${res.status}`)
  return (await res.json()) as StatusBody
}

interface InjectedResponse {
  statusCode: number
  headers: Record<string, unknown>
  json(): unknown
}

/** Asserts the API's outage answer: 503, Retry-After, and a body naming the dependency. */
export function assertUnavailable(
  t: Test,
  res: InjectedResponse,
  expected: { dependency: string; retryAfter: string; message: string | RegExp },
) {
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], expected.retryAfter)
  t.match(res.json(), {
    statusCode: 503,
    error: 'Service Unavailable',
    dependency: expected.dependency,
    message: expected.message,
  })
}
