import { wants } from './args.js'
import type { RequestKind } from './load-spec.js'
import type { SoakResult } from './result.js'
import { SCENARIOS } from './scenarios.js'
import { APP, type Session } from './session.js'

/**
 * Soak: sustained mixed load on the app at a small limit, mixing every scenario that declares a
 * share of it. The question is only whether RSS stays under the limit (the exit code), with
 * shedding and the leak guard counted.
 */
export async function soakRun(session: Session, minutes: number): Promise<SoakResult> {
  const { options, progress } = session
  const limitMb = options.soakMemoryMb
  const variant = {
    ...APP,
    label: 'app (soak)',
    config: `the app at ${limitMb} MB`,
    memoryMb: limitMb,
  }
  const { server, result } = await session.launch(session.appSpec(variant), variant.config, limitMb)
  const selected = SCENARIOS.filter((s) => wants(options, s.name) && s.soakWeight !== undefined)
  const ctx = session.context(server, variant, true)
  for (const scenario of selected) await scenario.seed?.(ctx)
  const mix: RequestKind[] = []
  const parts: string[] = []
  for (const scenario of selected) {
    const prepared = await scenario.prepare(ctx)
    if ('skip' in prepared) {
      progress.log(`soak: leaving out ${scenario.name}: ${prepared.skip}`)
      continue
    }
    const weight = (scenario.soakWeight as number) / prepared.mix.length
    for (const kind of prepared.mix) mix.push({ ...kind, weight: kind.weight * weight })
    parts.push(`${scenario.name} ×${scenario.soakWeight}`)
  }
  if (mix.length === 0) throw new Error('soak: no scenario could run on this build')
  const connections = Math.max(options.connections, 32)
  const durationS = Math.round(minutes * 60)
  const scenario = await session
    .measure(
      server,
      {
        name: 'soak',
        title: 'soak: mixed load',
        how: `${minutes} min at ${limitMb} MB, ${connections} connections: ${parts.join(', ')}`,
        connections,
      },
      mix,
      { timing: { durationS, warmupS: 0 } },
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
    crossedLimit: peakRssMb >= limitMb || (result.box?.oomKills ?? 0) > 0,
    shed503: scenario?.load?.statuses['503'] ?? 0,
    leakGuardFired: result.leakGuardFired,
    exit: exitedEarly ? `server exited during the soak: ${JSON.stringify(exitedEarly)}` : undefined,
    ...(scenario?.load ? { load: scenario.load } : {}),
  }
}
