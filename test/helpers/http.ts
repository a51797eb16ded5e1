/** The parts of GET /status that process tests read. */
export interface StatusBody {
  memory: { heapSizeLimitBytes: number; underPressure: boolean; usageMb: { rss: number } }
  [section: string]: unknown
}

export async function getStatus(baseUrl: string, token?: string): Promise<StatusBody> {
  const res = await fetch(`${baseUrl}/status`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  })
  if (res.status !== 200) throw new Error(`GET /status answered ${res.status}`)
  return (await res.json()) as StatusBody
}
