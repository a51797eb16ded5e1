import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { planMemory } from '../src/memory.js'
import { type BenchOptions, wants } from './args.js'
import type { BenchDatabase } from './database.js'
import { runLoad } from './load.js'
import { clockTicksPerSecond, coreTicks, cpuTicks, rss } from './proc.js'
import {
  LEAK_GUARD_LINE,
  type RunningServer,
  type ServerSpec,
  startServer,
  stopServer,
} from './processes.js'
import type { Progress } from './progress.js'
import type { ProcessResult, ScenarioResult } from './result.js'
import type { Sampler } from './sampler.js'
import type { ScenarioDef } from './scenarios.js'
import { cpuMicrosPerRequest, MB, otherShare, ratio, toMb } from './stats.js'

/** One bench invocation's shared state: launching processes and running scenarios on them. */

export interface AppConfig {
  label: string
  /** In words, for the report. */
  config: string
  memoryLimitMb: number
  redis: boolean
  env?: Record<string, string>
}

export class Session {
  readonly processes: ProcessResult[] = []
  readonly scenarios: ScenarioResult[] = []
  /** The baseline's /healthz: what every throughput and CPU figure is divided by. */
  reference: { rps: number; cpuUs: number | undefined } | undefined
  private watched: RunningServer | undefined
  /** This run's own Redis keys and channels: other runs and tests share the server. */
  readonly redisPrefix = `freetier-bench-${randomBytes(4).toString('hex')}`

  constructor(
    readonly options: BenchOptions,
    readonly root: string,
    readonly cpus: { server: string | undefined; load: string | undefined },
    readonly sampler: Sampler,
    readonly progress: Progress,
    readonly db: BenchDatabase,
    readonly redisUrl: string | undefined,
  ) {}

  baselineSpec(): ServerSpec {
    return {
      label: 'baseline',
      script: join(this.root, 'dist', 'bench', 'baseline-server.js'),
      nodeArgs: ['--expose-gc'],
      env: {},
      cpu: this.cpus.server,
      cwd: this.root,
    }
  }

  appSpec(app: AppConfig): ServerSpec {
    return {
      label: app.label,
      script: join(this.root, 'dist', 'scripts', 'start.js'),
      env: {
        ...this.db.env,
        MEMORY_LIMIT_MB: String(app.memoryLimitMb),
        // One client address sends everything: the per-IP limit would turn the run into 429s.
        RATE_LIMIT_MAX: '1000000000',
        ...(app.redis && this.redisUrl
          ? { REDIS_URL: this.redisUrl, REDIS_KEY_PREFIX: this.redisPrefix }
          : {}),
        ...app.env,
        ...this.options.appEnv,
      },
      cpu: this.cpus.server,
      cwd: this.root,
    }
  }

  /** Starts `spec` `boots` times (all but the last stopped again); the last keeps running. */
  async launch(
    spec: ServerSpec,
    config: string,
    memoryLimitMb: number | undefined,
    boots = 1,
  ): Promise<{ server: RunningServer; result: ProcessResult }> {
    let result = this.processes.find((p) => p.label === spec.label)
    if (!result) {
      result = {
        label: spec.label,
        config,
        memoryLimitMb,
        // The app's own memory plan says where it starts shedding.
        shedRssMb:
          memoryLimitMb === undefined
            ? undefined
            : Math.round(planMemory({ envLimitMb: memoryLimitMb }).shedRssBytes / MB),
        bootMs: [],
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
      const server = await startServer(spec)
      result.bootMs.push(Math.round(server.bootMs))
      result.bootCpuMs.push(Math.round(server.bootCpuMs))
      result.idleRssMb.push(toMb(server.idle.tree))
      result.idleServerRssMb.push(toMb(server.idle.server))
      this.progress.log(
        `${spec.label}: boot ${Math.round(server.bootMs)} ms (${Math.round(server.bootCpuMs)} ms CPU), idle RSS ${toMb(server.idle.tree)} MB${boots > 1 ? ` (${i}/${boots})` : ''}`,
      )
      if (i >= boots) {
        // Only the process that goes on to run scenarios is sampled (and drawn).
        this.sampler.watch(server.pids, {
          label: spec.label,
          limitMb: memoryLimitMb,
          shedMb: result.shedRssMb,
        })
        this.watched = server
        return { server, result }
      }
      await this.stop(server, result)
    }
  }

  async stop(server: RunningServer, result: ProcessResult): Promise<void> {
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

  skip(def: Pick<ScenarioDef, 'name' | 'title' | 'how'>, process: string, reason: string): void {
    this.progress.log(`${def.title}: skipped: ${reason}`)
    this.scenarios.push({
      name: def.name,
      title: def.title,
      process,
      how: def.how,
      skipped: reason,
    })
  }

  /** Checks the scenario is what it claims, runs the load, reads CPU and RSS around it. */
  async scenario(
    server: RunningServer,
    def: ScenarioDef,
    connections = this.options.connections,
    timing = { durationS: this.options.durationS, warmupS: this.options.warmupS },
  ): Promise<ScenarioResult | undefined> {
    const { durationS, warmupS } = timing
    if (def.name !== 'baseline-healthz' && def.name !== 'soak' && !wants(this.options, def.name)) {
      return undefined
    }
    const process = server.spec.label
    if (server.exit) {
      this.skip(def, process, `the server exited before it (${JSON.stringify(server.exit)})`)
      return undefined
    }
    const reason = await def.check(server.url)
    if (reason !== undefined) {
      this.skip(def, process, reason)
      return undefined
    }
    this.progress.log(`${def.title} on ${process}: ${connections} connections, ${durationS} s`)
    let ticks = 0
    let core: ReturnType<typeof coreTicks>
    let started = 0
    let peak = 0
    const load = await runLoad(
      {
        origin: server.url,
        connections,
        durationS,
        warmupS,
        mix: def.mix,
        timeoutS: 30,
      },
      this.cpus.load,
      {
        onStart: () => {
          ticks = cpuTicks(server.pids)
          core = this.cpus.server === undefined ? undefined : coreTicks(Number(this.cpus.server))
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
      this.skip(def, process, `the server exited during the run (${JSON.stringify(server.exit)})`)
      return undefined
    }
    const used = cpuTicks(server.pids) - ticks
    const coreAfter =
      this.cpus.server === undefined ? undefined : coreTicks(Number(this.cpus.server))
    const others = core && coreAfter ? otherShare(core, coreAfter, used) : undefined
    const ended = this.sampler.now()
    this.sampler.mark(def.title, started, ended)
    for (const sample of this.sampler.timeline.samples) {
      if (sample.t >= started && sample.t <= ended) peak = Math.max(peak, sample.rss)
    }
    const cpuUs = cpuMicrosPerRequest(used, clockTicksPerSecond(), load.responses)
    if (def.name === 'baseline-healthz') this.reference = { rps: load.requestsPerSecond, cpuUs }
    const result: ScenarioResult = {
      name: def.name,
      title: def.title,
      process,
      how: def.how,
      connections,
      load,
      ...(cpuUs === undefined ? {} : { cpuMicrosPerRequest: Math.round(cpuUs * 10) / 10 }),
      ...optional('throughputRatio', ratio(load.requestsPerSecond, this.reference?.rps)),
      ...optional('cpuRatio', ratio(cpuUs, this.reference?.cpuUs)),
      peakRssMb: toMb(peak),
      ...optional('otherCpuShare', others),
    }
    this.scenarios.push(result)
    const non2xx = Object.entries(load.statuses).filter(([code]) => !code.startsWith('2'))
    this.progress.log(
      `${def.title}: ${Math.round(load.requestsPerSecond)} req/s${result.throughputRatio === undefined ? '' : ` (${result.throughputRatio}× baseline)`}, p50 ${load.latencyP50Ms} ms, p99 ${load.latencyP99Ms} ms, ${result.cpuMicrosPerRequest ?? '?'} µs CPU/req${others === undefined ? '' : `, its CPU ${Math.round(others * 100)}% busy with others`}, non-2xx ${non2xx.length ? JSON.stringify(Object.fromEntries(non2xx)) : 0}${Object.keys(load.errors).length ? `, errors ${JSON.stringify(load.errors)}` : ''}`,
    )
    return result
  }
}

function optional<K extends string>(key: K, value: number | undefined) {
  return (value === undefined ? {} : { [key]: value }) as Partial<Record<K, number>>
}
