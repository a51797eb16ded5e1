import { wants } from './args.js'
import { BASELINES } from './baselines.js'
import type { RunningServer } from './processes.js'
import type { ProcessResult } from './result.js'
import type { Scenario, Variant } from './scenario.js'
import { healthz, SCENARIOS } from './scenarios.js'
import { APP, type Session } from './session.js'

/**
 * The standard run: the baselines, then the app in each configuration the scenarios need. Every
 * process starts fresh (in its own box), so each cold start is timed and each idle RSS read
 * after its own GC.
 */
export async function standardRun(session: Session): Promise<void> {
  const { options } = session
  const selected = SCENARIOS.filter((s) => wants(options, s.name))
  const boxed = session.placement.box !== undefined
  const healthzMix = [{ weight: 1, method: 'GET' as const, paths: ['/healthz'] }]

  // 1. The baselines: bare Fastify first (every ratio's reference), then bare node:http.
  for (const baseline of [BASELINES.fastify, BASELINES.http]) {
    const { server, result } = await session.launch(
      session.baselineSpec(baseline),
      `${baseline.label} hello-world, same Node`,
      boxed ? options.memoryMb : undefined,
      options.boots,
    )
    const measured = await session.measure(server, healthz, healthzMix)
    if (baseline === BASELINES.fastify && measured?.load) {
      session.reference = {
        rps: measured.load.requestsPerSecond,
        cpuUs: measured.cpuMicrosPerRequest,
        p99Ms: measured.load.latencyP99Ms,
      }
      Object.assign(measured, { throughputRatio: 1, cpuRatio: 1, p99Ratio: 1 })
    }
    await session.stop(server, result)
  }

  // 2. The first start: migrations, then whatever data the scenarios seed, so every timed start
  //    below finds a migrated, seeded database.
  {
    const spec = { ...session.appSpec(APP), label: 'app (first start)' }
    const { server, result } = await session.launch(
      spec,
      'first start: migrations, then seeding',
      session.memoryOf(APP),
    )
    for (const scenario of selected) await scenario.seed?.(session.context(server, APP))
    await session.stop(server, result)
  }

  // 3. The app, each --compare variant of it, then each configuration a scenario asks for.
  const coldRead = selected.map((s) => s.coldRead?.()).find((path) => path !== undefined)
  const app = { ...APP, config: describeApp(session, APP) }
  const compared: Variant[] = options.compare.map((env) => {
    const pairs = Object.entries(env).map(([key, value]) => `${key}=${value}`)
    return { label: `app (${pairs.join(', ')})`, config: `the app with ${pairs.join(', ')}`, env }
  })
  const variants: Variant[] = [app, ...compared]
  for (const scenario of selected) {
    const own = scenario.variant
    if (own && !variants.some((v) => v.label === own.label)) variants.push(own)
  }
  for (const variant of variants) {
    const asApp = variant === app || compared.includes(variant)
    const mine = selected.filter((s) =>
      asApp ? s.variant === undefined : s.variant?.label === variant.label,
    )
    if (mine.length === 0) continue
    const memoryMb = session.memoryOf(variant)
    const { server, result } = await session.launch(
      session.appSpec(variant),
      variant.config,
      memoryMb,
      asApp ? options.boots : 1,
      asApp ? coldRead : undefined,
    )
    for (const scenario of mine) await runScenario(session, server, scenario, variant, result)
    await session.stop(server, result)
  }
}

/** One scenario; a failure is reported as its skip reason, and the run goes on. */
async function runScenario(
  session: Session,
  server: RunningServer,
  scenario: Scenario,
  variant: Variant,
  result: ProcessResult,
): Promise<void> {
  try {
    await session.run(server, scenario, variant)
  } catch (error) {
    session.skip(scenario, result.label, `failed: ${(error as Error).message}`)
  }
}

function describeApp(session: Session, variant: Variant): string {
  const box = session.placement.box
  const memory = session.memoryOf(variant)
  return [
    'bootstrap',
    box ? `box ${box.cpus} CPU / ${memory} MB` : `MEMORY_LIMIT_MB=${memory}`,
    session.hasRedis(variant) ? 'Redis' : 'no Redis',
  ].join(', ')
}
