import { dirname } from 'node:path'
import { makeCompileCache } from '../scripts/compile-cache.js'
import { wants } from './args.js'
import { BASELINES } from './baselines.js'
import type { RunningServer } from './processes.js'
import { measureSameResponses } from './replay.js'
import { type ProcessResult, referenceOf } from './result.js'
import { hasRatioTarget, type Scenario, type Variant } from './scenario.js'
import { healthz, SCENARIOS } from './scenarios.js'
import { APP, type LaunchOptions, type Session } from './session.js'

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

  // 1. The baselines: bare Fastify first (every ratio's reference), then bare node:http. Bare
  //    Fastify stays up while the app's scenarios run when one has a ratio target: its /healthz
  //    is measured again just before each of their windows.
  const besideApp = selected.some(hasRatioTarget)
  // Bare Fastify's cold starts after its first are timed between the app's (step 3), when the app
  // runs: the two medians then come from the same minutes of the machine.
  const appScenarios = selected.filter((s) => s.variant === undefined)
  let alternate: LaunchOptions['alternate']
  for (const baseline of [BASELINES.fastify, BASELINES.http]) {
    const alternates = baseline === BASELINES.fastify && appScenarios.length > 0
    const spec = session.baselineSpec(baseline)
    const { server, result } = await session.launch(
      spec,
      `${baseline.label} hello-world, same Node`,
      boxed ? options.memoryMb : undefined,
      { boots: alternates ? 1 : options.boots },
    )
    if (alternates) alternate = { spec, result }
    const measured = await session.measure(server, healthz, healthzMix)
    if (baseline === BASELINES.fastify && measured?.load) {
      session.reference = referenceOf(measured)
      Object.assign(measured, { throughputRatio: 1, cpuRatio: 1, p99Ratio: 1 })
      if (besideApp) {
        session.beside = { server, result, def: healthz, mix: healthzMix }
        continue
      }
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
  const compared: Variant[] = options.compare.map(({ env, nodeArgs }) => {
    const items = [...nodeArgs, ...Object.entries(env).map(([key, value]) => `${key}=${value}`)]
    const config = `the app with ${items.join(', ')}`
    return { label: `app (${items.join(', ')})`, config, env, nodeArgs }
  })
  // The app and each --compare variant run at once, each in its own box; every scenario is
  // measured on each in turn (interleaved rounds), so a busy machine weighs on both sides alike.
  if (appScenarios.length > 0) {
    const launch = async (variant: Variant): Promise<Launched & { variant: Variant }> => {
      const spec = session.appSpec(variant)
      const memoryMb = session.memoryOf(variant)
      // Node flags of its own key V8's compile cache apart: its entry is made as the build would
      // make it for those flags, so its cold starts compare with the app's.
      if (variant.nodeArgs?.length) {
        makeCompileCache(dirname(spec.script), spec.nodeArgs, {
          MEMORY_LIMIT_MB: String(memoryMb),
        })
      }
      return {
        ...(await session.launch(spec, variant.config, memoryMb, {
          boots: options.boots,
          coldRead,
          ...(variant === app && alternate ? { alternate } : {}),
        })),
        variant,
      }
    }
    const appRun = await launch(app)
    const running = [appRun]
    for (const variant of compared) running.push(await launch(variant))
    for (const scenario of appScenarios)
      await runScenario(session, running, scenario, options.rounds)
    // While the app still runs: its responses are recorded from it.
    for (const scenario of appScenarios.filter((s) => s.sameResponses)) {
      await measureSameResponses(session, appRun.server, appRun.variant, scenario).catch(
        (error: unknown) =>
          session.skip(scenario, BASELINES.replay.label, `failed: ${(error as Error).message}`),
      )
    }
    for (const { server, result } of running) await session.stop(server, result)
  }
  const { beside } = session
  if (beside) {
    session.beside = undefined
    await session.stop(beside.server, beside.result)
  }
  const variants: Variant[] = []
  for (const scenario of selected) {
    const own = scenario.variant
    if (own && !variants.some((v) => v.label === own.label)) variants.push(own)
  }
  for (const variant of variants) {
    const { server, result } = await session.launch(
      session.appSpec(variant),
      variant.config,
      session.memoryOf(variant),
    )
    for (const scenario of selected.filter((s) => s.variant?.label === variant.label)) {
      await runScenario(session, [{ server, result, variant }], scenario, 1)
    }
    await session.stop(server, result)
  }
}

type Launched = { server: RunningServer; result: ProcessResult }

/** One scenario on one or more servers; a failure is reported as its skip reason, and the run goes on. */
async function runScenario(
  session: Session,
  servers: Array<Launched & { variant: Variant }>,
  scenario: Scenario,
  rounds: number,
): Promise<void> {
  try {
    await session.run(servers, scenario, rounds)
  } catch (error) {
    for (const { result } of servers)
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
