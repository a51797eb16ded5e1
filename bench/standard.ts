import { wants } from './args.js'
import { seedNotes } from './database.js'
import * as scenario from './scenarios.js'
import type { Session } from './session.js'

/**
 * The standard run: the baseline, then the app in each configuration a scenario needs. Every
 * process is started fresh, so each boot is timed and each idle RSS read after its own GC.
 */
export async function standardRun(session: Session): Promise<void> {
  const { options, progress } = session
  const hot = options.quick ? 50 : 100

  // 1. The baseline: bare Fastify, same Node, same pinning.
  {
    const { server, result } = await session.launch(
      session.baselineSpec(),
      'bare Fastify hello-world',
      undefined,
      options.boots,
    )
    await session.scenario(server, scenario.healthz('baseline-healthz'))
    await session.stop(server, result)
  }

  // 2. Migrate and seed once, so every timed boot below starts on a migrated database.
  const standard = {
    label: 'app',
    config: `bootstrap, MEMORY_LIMIT_MB=${options.memoryLimitMb}, L1 on${session.redisUrl ? ', Redis L2' : ', no Redis'}`,
    memoryLimitMb: options.memoryLimitMb,
    redis: true,
  }
  let ids: string[] = []
  const readers = ['read-l1', 'read-l2', 'read-uncached', 'html-uncached', 'overload'] as const
  const needsNotes = readers.some((name) => wants(options, name))
  {
    const spec = { ...session.appSpec(standard), label: 'app (migrate + seed)' }
    const { server, result } = await session.launch(
      spec,
      'first start: migrations, then seeding',
      options.memoryLimitMb,
    )
    if (needsNotes) {
      progress.log(`seeding ${options.notes} notes through POST /api/notes`)
      const seeded = await seedNotes(server.url, options.notes)
      if ('skipped' in seeded) progress.log(`not seeded: ${seeded.skipped}`)
      else ids = seeded.ids
    }
    await session.stop(server, result)
  }
  const noNotes = 'no notes: POST /api/notes is not on this build yet'

  // 3. The production configuration: boot and idle figures, cheap routes, L1 hits, writes.
  {
    const { server, result } = await session.launch(
      session.appSpec(standard),
      standard.config,
      options.memoryLimitMb,
      options.boots,
    )
    await session.scenario(server, scenario.healthz('healthz'))
    if (ids.length > 0) await session.scenario(server, scenario.readHot(ids.slice(0, hot), 'l1'))
    else if (wants(options, 'read-l1')) session.skip(scenario.readHot([], 'l1'), 'app', noNotes)
    await session.scenario(server, scenario.create(1_000_000))
    await session.stop(server, result)
  }

  // 4. L1 off, Redis on: every read of a warm note is an L2 hit.
  if (wants(options, 'read-l2')) {
    const def = scenario.readHot(ids.slice(0, hot), 'l2')
    if (!session.redisUrl)
      session.skip(
        def,
        'app (L1 off)',
        `no Redis reachable at ${options.redisUrl ?? '(--no-redis)'}`,
      )
    else if (ids.length === 0) session.skip(def, 'app (L1 off)', noNotes)
    else {
      const app = {
        ...standard,
        label: 'app (L1 off)',
        config: 'CACHE_L1=false, Redis L2',
        env: { CACHE_L1: 'false' },
      }
      const { server, result } = await session.launch(
        session.appSpec(app),
        app.config,
        app.memoryLimitMb,
      )
      await session.scenario(server, def)
      await session.stop(server, result)
    }
  }

  // 5. No cache tier at all: reads are queries, renders run on the worker pool every time.
  const uncached = {
    ...standard,
    label: 'app (no cache)',
    config: 'CACHE_L1=false, no REDIS_URL',
    redis: false,
    env: { CACHE_L1: 'false' },
  }
  if (wants(options, 'read-uncached') || wants(options, 'html-uncached')) {
    if (ids.length === 0) {
      if (wants(options, 'read-uncached'))
        session.skip(scenario.readUncached([]), uncached.label, noNotes)
      if (wants(options, 'html-uncached'))
        session.skip(scenario.htmlUncached([], 'html-uncached'), uncached.label, noNotes)
    } else {
      const { server, result } = await session.launch(
        session.appSpec(uncached),
        uncached.config,
        uncached.memoryLimitMb,
      )
      await session.scenario(server, scenario.readUncached(ids))
      await session.scenario(server, scenario.htmlUncached(ids, 'html-uncached'))
      await session.stop(server, result)
    }
  }

  // 6. Overload at a small limit: far more connections than the worker pool and its queue hold.
  if (wants(options, 'overload')) {
    const label = 'app (overload)'
    const def = scenario.htmlUncached(ids, 'overload')
    if (ids.length === 0) session.skip(def, label, noNotes)
    else {
      const app = {
        ...uncached,
        label,
        config: `MEMORY_LIMIT_MB=${options.overloadMemoryLimitMb}, CACHE_L1=false, no REDIS_URL`,
        memoryLimitMb: options.overloadMemoryLimitMb,
      }
      const { server, result } = await session.launch(
        session.appSpec(app),
        app.config,
        app.memoryLimitMb,
      )
      await session.scenario(server, def, options.overloadConnections)
      await session.stop(server, result)
    }
  }
}
