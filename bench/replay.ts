import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BASELINES } from './baselines.js'
import { type HttpResponse, send } from './http.js'
import type { RunningServer } from './processes.js'
import type { Scenario, Variant } from './scenario.js'
import type { Session } from './session.js'

/** A response as the replay baseline sends it again: what Fastify or Node add is left out. */
export interface RecordedResponse {
  status: number
  headers: Record<string, string | string[]>
  body: string
}

/** Headers the replaying server writes itself. */
const OWN_HEADERS = new Set([
  'date',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
])

export function recordResponse(response: HttpResponse): RecordedResponse {
  const headers: RecordedResponse['headers'] = {}
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined && !OWN_HEADERS.has(name)) headers[name] = value
  }
  return { status: response.status, headers, body: response.body }
}

/**
 * Bare Fastify sending the app's own responses to a scenario's GETs: each path's response is
 * recorded from the running app, then the replay baseline (bench/baseline-replay.ts) sends them
 * again under the same mix, in a box of its own.
 */
export async function measureSameResponses(
  session: Session,
  app: RunningServer,
  variant: Variant,
  def: Scenario,
): Promise<void> {
  const label = BASELINES.replay.label
  // Prepared again rather than reusing the app's mix: the scenarios measured since may have
  // changed what the app holds (a write invalidates cached reads), and preparing warms it back,
  // so what is recorded is what the scenario measured (for the L1 read, L1 hits, not misses).
  const prepared = await def.prepare(session.context(app, variant))
  if ('skip' in prepared) return session.skip(def, label, prepared.skip)
  const mix = prepared.mix.filter((kind) => kind.method === 'GET')
  const responses: Record<string, RecordedResponse> = {}
  for (const path of new Set(mix.flatMap((kind) => kind.paths))) {
    responses[path] = recordResponse(await send(`${app.url}${path}`))
  }
  const dir = await mkdtemp(join(tmpdir(), 'freetier-bench-'))
  try {
    const file = join(dir, 'responses.json')
    await writeFile(file, JSON.stringify(responses))
    const { server, result } = await session.launch(
      session.baselineSpec(BASELINES.replay, { REPLAY_FILE: file }),
      `bare Fastify sending the app's responses to "${def.title}" again, as recorded`,
      session.placement.box ? session.options.memoryMb : undefined,
    )
    try {
      await session.measure(server, def, mix, { reference: await session.referenceFor(def) })
    } finally {
      await session.stop(server, result)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
