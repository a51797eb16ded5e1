import { seedNotes } from './database.js'
import { isMissingRoute, send } from './http.js'
import type { RequestKind } from './load-spec.js'
import type { SoakResult } from './result.js'
import { soakMix } from './scenarios.js'
import type { Session } from './session.js'

/** Keeps only the request kinds whose route this build has (a missing one is reported, not faked). */
async function available(origin: string, mix: RequestKind[], log: (m: string) => void) {
  const kept: RequestKind[] = []
  for (const kind of mix) {
    const path = kind.paths[0] as string
    const response =
      kind.method === 'POST'
        ? await send(`${origin}${path}`, {
            method: 'POST',
            json: { title: 'soak probe', body: 'x' },
          })
        : await send(`${origin}${path}`)
    if (isMissingRoute(response))
      log(`soak: leaving out ${kind.method} ${path}: not on this build yet`)
    else kept.push(kind)
  }
  return kept
}

/**
 * Soak: sustained mixed load on the production configuration at a small limit. The question is
 * only whether RSS stays under the limit (the exit code), with shedding and the leak guard counted.
 */
export async function soakRun(session: Session, minutes: number): Promise<SoakResult> {
  const { options, progress } = session
  const limitMb = options.soakMemoryLimitMb
  const app = {
    label: 'app (soak)',
    config: `bootstrap, MEMORY_LIMIT_MB=${limitMb}, L1 on${session.redisUrl ? ', Redis L2' : ', no Redis'}`,
    memoryLimitMb: limitMb,
    redis: true,
  }
  const { server, result } = await session.launch(session.appSpec(app), app.config, limitMb)
  progress.log(`seeding ${options.notes} notes`)
  const seeded = await seedNotes(server.url, options.notes)
  const ids = 'ids' in seeded ? seeded.ids : []
  if ('skipped' in seeded) progress.log(`not seeded: ${seeded.skipped}`)
  let mix =
    ids.length > 0
      ? await available(server.url, soakMix(ids, 2_000_000), (m) => progress.log(m))
      : []
  if (mix.length === 0) mix = [{ weight: 1, method: 'GET', paths: ['/healthz'] }]
  const kinds = mix.map(
    (k) => `${k.method} ${k.paths[0]?.replace(/[0-9a-f-]{36}/, ':id')} ×${k.weight}`,
  )
  const durationS = Math.round(minutes * 60)
  const connections = Math.max(options.connections, 32)
  const scenario = await session
    .scenario(
      server,
      {
        name: 'soak',
        title: 'soak: mixed load',
        how: `${minutes} min at MEMORY_LIMIT_MB=${limitMb}, ${connections} connections: ${kinds.join(', ')}`,
        mix,
        check: async () => undefined,
      },
      connections,
      { durationS, warmupS: 0 },
    )
    .catch((error: Error) => {
      progress.log(`soak: ${error.message}`)
      return undefined
    })
  const exitedEarly = server.exit
  await session.stop(server, result)
  const peakRssMb = Math.max(scenario?.peakRssMb ?? 0, result.peakRssMb)
  return {
    minutes,
    memoryLimitMb: limitMb,
    peakRssMb,
    crossedLimit: peakRssMb >= limitMb,
    shed503: scenario?.load?.statuses['503'] ?? 0,
    leakGuardFired: result.leakGuardFired,
    exit: exitedEarly ? `server exited during the soak: ${JSON.stringify(exitedEarly)}` : undefined,
    ...(scenario?.load ? { load: scenario.load } : {}),
  }
}
