import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { BoxLimits, CgroupVersion } from '../scripts/box.js'
import { planMemory, v8Flags } from '../src/memory.js'
import type { BenchOptions } from './args.js'
import type { BASELINES } from './baselines.js'
import type { BenchDatabase } from './database.js'
import { send } from './http.js'
import { runLoad } from './load.js'
import { clockTicksPerSecond, coreTicks, rss } from './proc.js'
import {
  cpuMs,
  LEAK_GUARD_LINE,
  type RunningServer,
  type ServerSpec,
  startServer,
  stopServer,
} from './processes.js'
import type { Progress } from './progress.js'
import { type ProcessResult, type Reference, referenceOf, type ScenarioResult } from './result.js'
import type { Sampler, Segment } from './sampler.js'
import {
  hasRatioTarget,
  type RequestKind,
  type Scenario,
  type ScenarioContext,
  type Variant,
} from './scenario.js'
import { MB, otherShare, ratio, toMb } from './stats.js'

/** One bench invocation's shared state: launching processes and running scenarios on them. */

/** The app as it is: the variant every scenario without its own runs on. */
export const APP: Variant = { label: 'app', config: 'the app as configured' }

export interface Placement {
  /** Each server's box; undefined where no cgroup can be made (or --no-box). */
  box: (BoxLimits & { cgroup: CgroupVersion }) | undefined
  /** taskset CPU lists for the servers and the load generator; undefined: unpinned. */
  server: string | undefined
  load: string | undefined
}

export class Session {
  readonly processes: ProcessResult[] = []
  readonly scenarios: ScenarioResult[] = []
  /** Bare Fastify's /healthz: what every throughput, CPU and latency figure is divided by. */
  reference: Reference | undefined
  /**
   * Bare Fastify, kept running beside the app while scenarios with a ratio target run: each of
   * their windows divides by a /healthz window measured on it just before, so a machine that
   * gets busier or quieter during the run weighs on both sides of the ratio alike.
   */
  beside:
    | { server: RunningServer; result: ProcessResult; def: MeasuredDef; mix: RequestKind[] }
    | undefined
  private watched: RunningServer | undefined
  /** How each running server is drawn (several run at once in an A/B). */
  private readonly segments = new Map<RunningServer, Omit<Segment, 'start' | 'end'>>()
  /** This run's own Redis keys and channels: other runs and tests share the server. */
  readonly redisPrefix = `freetier-bench-${randomBytes(4).toString('hex')}`

  constructor(
    readonly options: BenchOptions,
    readonly root: string,
    readonly placement: Placement,
    readonly sampler: Sampler,
    readonly progress: Progress,
    readonly db: BenchDatabase,
    readonly redisUrl: string | undefined,
  ) {}

  /**
   * Wall seconds of unmeasured load before a window: --warmup is seconds of the server's CPU,
   * and a saturated server in a box gets its CPU share of each second.
   */
  warmupWallS(): number {
    return this.options.warmupCpuS / (this.placement.box?.cpus ?? 1)
  }

  /** The memory limit of a process: its variant's, else the run's. */
  memoryOf(variant: Variant): number {
    return variant.memoryMb ?? this.options.memoryMb
  }

  private boxFor(memoryMb: number): BoxLimits | undefined {
    return this.placement.box && { cpus: this.placement.box.cpus, memoryMb }
  }

  baselineSpec(
    baseline: (typeof BASELINES)[keyof typeof BASELINES],
    env: Record<string, string> = {},
  ): ServerSpec {
    return {
      label: baseline.label,
      script: join(this.root, 'dist', 'bench', baseline.script),
      nodeArgs: ['--expose-gc'],
      env,
      box: this.boxFor(this.options.memoryMb),
      cpu: this.placement.server,
      cwd: this.root,
    }
  }

  /** Whether a process of this variant gets Redis. */
  hasRedis(variant: Variant): boolean {
    return variant.redis !== false && this.redisUrl !== undefined
  }

  appSpec(variant: Variant): ServerSpec {
    const memoryMb = this.memoryOf(variant)
    const box = this.boxFor(memoryMb)
    return {
      label: variant.label,
      script: join(this.root, 'dist', 'app', 'start.js'),
      // The plan's flags on the command line, as render.yaml's start command has them: the
      // bootstrap then runs the server in its own process instead of starting Node again.
      nodeArgs: [...v8Flags(planMemory({ envLimitMb: memoryMb })), ...(variant.nodeArgs ?? [])],
      env: {
        ...this.db.env,
        // In a box the app's memory plan reads its limit from the cgroup, as on the platform.
        ...(box ? {} : { MEMORY_LIMIT_MB: String(memoryMb) }),
        // One client address sends everything: the per-IP limit would turn the run into 429s.
        RATE_LIMIT_MAX: '1000000000',
        ...(this.hasRedis(variant)
          ? { REDIS_URL: this.redisUrl as string, REDIS_KEY_PREFIX: this.redisPrefix }
          : {}),
        ...variant.env,
        ...this.options.appEnv,
      },
      box,
      cpu: this.placement.server,
      cwd: this.root,
    }
  }

  /**
   * Starts `spec` `boots` times (all but the last stopped again); the last keeps running. With
   * `alternate`, that process is started (and stopped) once more before each boot after the
   * first, so both sets of cold starts are timed on the same machine at the same minutes.
   */
  async launch(
    spec: ServerSpec,
    config: string,
    memoryLimitMb: number | undefined,
    { boots = 1, coldRead, alternate }: LaunchOptions = {},
  ): Promise<{ server: RunningServer; result: ProcessResult }> {
    let result = this.processes.find((p) => p.label === spec.label)
    if (!result) {
      const planned = memoryLimitMb !== undefined && spec.script.endsWith('start.js')
      result = {
        label: spec.label,
        config,
        memoryLimitMb,
        // The app's own memory plan says where it starts shedding.
        shedRssMb: planned
          ? Math.round(planMemory({ envLimitMb: memoryLimitMb }).shedRssBytes / MB)
          : undefined,
        bootMs: [],
        coldReadMs: [],
        bootCpuMs: [],
        idleRssMb: [],
        idleServerRssMb: [],
        peakRssMb: 0,
        exits: [],
        leakGuardFired: false,
      }
      this.processes.push(result)
    }
    for (let i = 1; ; i++) {
      if (alternate && i > 1) {
        const between = await this.boot(alternate.spec, alternate.result, `between ${spec.label}'s`)
        await this.stop(between, alternate.result)
      }
      const count = boots > 1 ? `${i}/${boots}` : undefined
      const server = await this.boot(spec, result, count, coldRead)
      if (i >= boots) {
        // Only the process that goes on to run scenarios is sampled (and drawn).
        this.segments.set(server, {
          label: spec.label,
          limitMb: memoryLimitMb,
          shedMb: result.shedRssMb,
        })
        this.focus(server)
        return { server, result }
      }
      await this.stop(server, result)
    }
  }

  /** One cold start of `spec`, timed and recorded in `result`; `note` is shown beside it. */
  private async boot(
    spec: ServerSpec,
    result: ProcessResult,
    note: string | undefined,
    coldRead?: string,
  ): Promise<RunningServer> {
    const server = await startServer(spec, coldRead)
    result.bootMs.push(Math.round(server.bootMs))
    if (server.coldReadMs !== undefined) result.coldReadMs.push(Math.round(server.coldReadMs))
    result.bootCpuMs.push(Math.round(server.bootCpuMs))
    result.idleRssMb.push(toMb(server.idle.tree))
    result.idleServerRssMb.push(toMb(server.idle.server))
    const firstPlan = result.plan === undefined && server.planLine !== undefined
    if (server.planLine) result.plan = server.planLine
    this.progress.log(
      `${spec.label}: first 200 after ${Math.round(server.bootMs)} ms (${Math.round(server.bootCpuMs)} ms CPU)${server.coldReadMs === undefined ? '' : `, first cached read after ${Math.round(server.coldReadMs)} ms`}, idle RSS ${toMb(server.idle.tree)} MB${note ? ` (${note})` : ''}${firstPlan ? `; its plan: ${server.planLine}` : ''}`,
    )
    return server
  }

  /** Samples (and draws) this server from now on. */
  focus(server: RunningServer): void {
    const segment = this.segments.get(server)
    if (this.watched === server || !segment) return
    this.sampler.watch(server.pids, segment)
    this.watched = server
  }

  async stop(server: RunningServer, result: ProcessResult): Promise<void> {
    this.segments.delete(server)
    const last = rss(server.pids)
    let sampledPeak = 0
    if (this.watched === server) {
      this.sampler.stop()
      sampledPeak = this.sampler.peak
      this.watched = undefined
    }
    result.peakRssMb = Math.max(
      result.peakRssMb,
      toMb(sampledPeak),
      toMb(last?.serverPeak ?? 0),
      toMb(last?.tree ?? 0),
    )
    await stopServer(server)
    const stats = server.boxStats
    if (stats) {
      result.box = {
        peakMb: Math.max(result.box?.peakMb ?? 0, toMb(stats.memoryPeakBytes ?? 0)),
        oomKills: (result.box?.oomKills ?? 0) + stats.oomKills,
      }
    }
    this.recordExit(server, result)
  }

  private recordExit(server: RunningServer, result: ProcessResult) {
    const exit = server.exit
    if (exit && (exit.code !== 0 || exit.signal !== null)) {
      const tail = server.notable.slice(-3).join(' | ')
      const text = `exit ${exit.code ?? exit.signal}${tail ? `: ${tail}` : ''}`
      if (!result.exits.includes(text)) result.exits.push(text)
    }
    if (exit?.code === 75 || server.notable.some((line) => LEAK_GUARD_LINE.test(line))) {
      result.leakGuardFired = true
    }
  }

  skip(def: Pick<Scenario, 'name' | 'title' | 'how'>, process: string, reason: string): void {
    this.progress.log(`${def.title} on ${process}: skipped: ${reason}`)
    this.scenarios.push({
      name: def.name,
      title: def.title,
      process,
      how: def.how,
      skipped: reason,
    })
  }

  /** What a scenario's hooks get for the server under test. */
  context(server: RunningServer, variant: Variant, soak = false): ScenarioContext {
    return {
      origin: server.url,
      quick: this.options.quick,
      redis: this.hasRedis(variant),
      soak,
      get: (path) => send(`${server.url}${path}`, { timeoutMs: 30_000 }),
      post: (path, json) =>
        send(`${server.url}${path}`, { method: 'POST', json, timeoutMs: 30_000 }),
      log: (message) => this.progress.log(message),
    }
  }

  /**
   * Prepares `def` on each server (its checks, its warm-up), then measures it on each in turn,
   * `rounds` times, keeping the round with the median CPU per request: an A/B interleaved so a
   * busy machine weighs on both sides alike.
   */
  async run(
    servers: Array<{ server: RunningServer; variant: Variant }>,
    def: Scenario,
    rounds = 1,
  ): Promise<void> {
    const ready: Array<{
      server: RunningServer
      mix: RequestKind[]
      how: string
      kept: ScenarioResult[]
    }> = []
    for (const { server, variant } of servers) {
      const process = server.spec.label
      if (server.exit) {
        this.skip(def, process, `the server exited before it (${JSON.stringify(server.exit)})`)
        continue
      }
      const prepared = await def.prepare(this.context(server, variant))
      if ('skip' in prepared) this.skip(def, process, prepared.skip)
      else ready.push({ server, mix: prepared.mix, how: prepared.how ?? def.how, kept: [] })
    }
    for (let round = 1; round <= rounds; round++) {
      const title = rounds > 1 ? `${def.title} (round ${round}/${rounds})` : def.title
      const reference = ready.length > 0 ? await this.referenceFor({ ...def, title }) : undefined
      for (const side of ready) {
        if (side.server.exit) continue
        const result = await this.measure(side.server, { ...def, title, how: side.how }, side.mix, {
          record: false,
          reference,
        })
        if (result) side.kept.push({ ...result, title: def.title })
      }
    }
    for (const side of ready) {
      if (side.kept.length === 0) {
        this.skip(
          def,
          side.server.spec.label,
          `the server exited during the run (${JSON.stringify(side.server.exit)})`,
        )
        continue
      }
      // By the ratio where each round has its own reference, else by CPU per request.
      const byCpu = [...side.kept].sort(
        (a, b) =>
          (a.cpuRatio ?? a.cpuMicrosPerRequest ?? 0) - (b.cpuRatio ?? b.cpuMicrosPerRequest ?? 0),
      )
      const median = byCpu[Math.floor((byCpu.length - 1) / 2)]
      if (median)
        this.scenarios.push(
          rounds > 1
            ? {
                ...median,
                how: `${median.how}; the median of ${side.kept.length} interleaved rounds by ${median.reference ? 'CPU ratio' : 'CPU per request'}`,
              }
            : median,
        )
    }
  }

  /**
   * What a window of `def` divides by: for a scenario with a ratio target, bare Fastify's
   * /healthz measured again now, while it runs beside the app; else the run's first.
   */
  async referenceFor(def: Pick<Scenario, 'title' | 'targets'>): Promise<Reference | undefined> {
    const beside = this.beside
    if (!hasRatioTarget(def) || !beside || beside.server.exit) return this.reference
    const title = `${beside.def.title} beside ${def.title}`
    const measured = await this.measure(beside.server, { ...beside.def, title }, beside.mix, {
      record: false,
    })
    return measured ? (referenceOf(measured) ?? this.reference) : this.reference
  }

  /**
   * Runs the load, reads CPU and RSS around it. `record: false` returns the result without
   * adding it to the run's; `reference` replaces the run's for this window's ratios.
   */
  async measure(
    server: RunningServer,
    def: MeasuredDef,
    mix: RequestKind[],
    {
      timing = { durationS: this.options.durationS, warmupS: this.warmupWallS() },
      record = true,
      reference = this.reference,
    }: {
      timing?: { durationS: number; warmupS: number }
      record?: boolean
      reference?: Reference
    } = {},
  ): Promise<ScenarioResult | undefined> {
    const { durationS, warmupS } = timing
    this.focus(server)
    const connections = def.connections ?? this.options.connections
    const process = server.spec.label
    this.progress.log(`${def.title} on ${process}: ${connections} connections, ${durationS} s`)
    const pinned = this.placement.server
    let cpuBefore = 0
    let core: ReturnType<typeof coreTicks>
    let started = 0
    let peak = 0
    let warmup: ScenarioResult['warmup']
    const load = await runLoad(
      { origin: server.url, connections, durationS, warmupS, mix, timeoutS: 30 },
      this.placement.load,
      {
        onStart: (warmed) => {
          if (warmed) {
            const { durationS: seconds, requestsPerSecond } = warmed
            warmup = { seconds, requestsPerSecond: Math.round(requestsPerSecond) }
          }
          cpuBefore = cpuMs(server)
          core = pinned === undefined ? undefined : coreTicks(Number(pinned))
          started = this.sampler.now()
          peak = 0
        },
        onTick: (responses) => {
          const current = this.sampler.sample() ?? 0
          peak = Math.max(peak, current)
          const elapsed = this.sampler.now() - started
          this.progress.tick(def.title, responses, elapsed, durationS, current / MB)
        },
      },
    )
    if (server.exit) {
      // CPU and RSS of a process that is gone cannot be read: report the exit, not figures.
      this.progress.log(
        `${def.title}: the server exited during the run (${JSON.stringify(server.exit)}); its last lines:\n${server.tail
          .slice(-15)
          .map((l) => `  | ${l}`)
          .join('\n')}`,
      )
      if (record) {
        this.skip(def, process, `the server exited during the run (${JSON.stringify(server.exit)})`)
      }
      return undefined
    }
    const usedMs = cpuMs(server) - cpuBefore
    const coreAfter = pinned === undefined ? undefined : coreTicks(Number(pinned))
    const others =
      core && coreAfter
        ? otherShare(core, coreAfter, (usedMs / 1000) * clockTicksPerSecond())
        : undefined
    const ended = this.sampler.now()
    this.sampler.mark(def.title, started, ended)
    for (const sample of this.sampler.timeline.samples) {
      if (sample.t >= started && sample.t <= ended) peak = Math.max(peak, sample.rss)
    }
    const cpuUs = load.responses > 0 ? (usedMs * 1000) / load.responses : undefined
    const result: ScenarioResult = {
      name: def.name,
      title: def.title,
      process,
      how: def.how,
      connections,
      load,
      ...optional(
        'cpuMicrosPerRequest',
        cpuUs === undefined ? undefined : Math.round(cpuUs * 10) / 10,
      ),
      ...optional('throughputRatio', ratio(load.requestsPerSecond, reference?.rps)),
      ...optional('cpuRatio', ratio(cpuUs, reference?.cpuUs)),
      ...optional('p99Ratio', ratio(load.latencyP99Ms, reference?.p99Ms)),
      ...(reference && reference !== this.reference ? { reference } : {}),
      peakRssMb: toMb(peak),
      ...optional('otherCpuShare', others),
      ...(warmup ? { warmup } : {}),
    }
    if (record) this.scenarios.push(result)
    const non2xx = Object.entries(load.statuses).filter(([code]) => !code.startsWith('2'))
    this.progress.log(
      `${def.title}: ${Math.round(load.requestsPerSecond)} req/s${result.throughputRatio === undefined ? '' : ` (${result.throughputRatio}× bare Fastify)`}, p50 ${load.latencyP50Ms} ms, p99 ${load.latencyP99Ms} ms, ${result.cpuMicrosPerRequest ?? '?'} µs CPU/req${others === undefined ? '' : `, its CPU ${Math.round(others * 100)}% busy with others`}, non-2xx ${non2xx.length ? JSON.stringify(Object.fromEntries(non2xx)) : 0}${Object.keys(load.errors).length ? `, errors ${JSON.stringify(load.errors)}` : ''}`,
    )
    return result
  }
}

export interface LaunchOptions {
  /** Cold starts to time (default 1). */
  boots?: number
  /** A path whose first cached answer is timed too. */
  coldRead?: string
  /** A process started once more between boots, so both are timed at the same minutes. */
  alternate?: { spec: ServerSpec; result: ProcessResult }
}

/** What a window is measured as: the scenario's names, without its hooks. */
type MeasuredDef = Pick<Scenario, 'name' | 'title' | 'how' | 'connections'>

function optional<K extends string>(key: K, value: number | undefined) {
  return (value === undefined ? {} : { [key]: value }) as Partial<Record<K, number>>
}
