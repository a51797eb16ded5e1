import { seedNotes } from './database.js'
import { isMissingRoute, send } from './http.js'
import { runLoad } from './load.js'
import type { RequestKind } from './load-spec.js'
import type { SoakResult } from './result.js'
import { soakMix } from './scenarios.js'
import type { Session } from './session.js'
import { MB, toMb } from './stats.js'

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
  const mix =
    ids.length > 0
      ? await available(server.url, soakMix(ids, 2_000_000), (m) => progress.log(m))
      : [{ weight: 1, method: 'GET' as const, paths: ['/healthz'] }]
  const durationS = Math.round(minutes * 60)
  const connections = Math.max(options.connections, 32)
  progress.log(
    `soak: ${minutes} min of mixed load, ${connections} connections, limit ${limitMb} MB`,
  )
  let started = 0
  let peak = 0
  const load = await runLoad(
    { origin: server.url, connections, durationS, warmupS: 0, mix, timeoutS: 30 },
    session.cpus.load,
    {
      onStart: () => {
        started = session.sampler.now()
      },
      onTick: (responses) => {
        const current = session.sampler.sample() ?? 0
        peak = Math.max(peak, current)
        progress.tick('soak', responses, session.sampler.now() - started, durationS, current / MB)
      },
    },
  ).catch((error: Error) => {
    progress.log(`soak: load generator failed: ${error.message}`)
    return undefined
  })
  const ended = session.sampler.now()
  session.sampler.mark('soak', started, ended)
  for (const sample of session.sampler.timeline.samples) peak = Math.max(peak, sample.rss)
  const exitedEarly = server.exit
  await session.stop(server, result)
  const peakRssMb = Math.max(toMb(peak), result.peakRssMb)
  return {
    minutes,
    memoryLimitMb: limitMb,
    peakRssMb,
    crossedLimit: peakRssMb >= limitMb,
    shed503: load?.statuses['503'] ?? 0,
    leakGuardFired: result.leakGuardFired,
    exit: exitedEarly ? `server exited during the soak: ${JSON.stringify(exitedEarly)}` : undefined,
    ...(load ? { load } : {}),
  }
}
