import { parseArgs } from 'node:util'
import { SCENARIOS } from './scenarios.js'

/** Everything one `npm run bench` invocation is asked to do. */
export interface BenchOptions {
  quick: boolean
  /** Seconds of measured load per scenario. */
  durationS: number
  /**
   * Seconds of CPU each server spends under unmeasured load before a scenario (JIT, caches,
   * pools): wall time is this divided by the box's CPU share, so a throttled process warms as
   * much as a free one.
   */
  warmupCpuS: number
  connections: number
  /** The box: CPU quota (share of one core) and memory limit of each server process. */
  cpus: number
  memoryMb: number
  /** Run each server in a cgroup box (where the OS allows); false: pinned with taskset only. */
  box: boolean
  /** Scenario names to run; undefined: all. */
  scenarios: string[] | undefined
  /** Directory the JSON, markdown and SVG are written to. */
  outDir: string
  embedded: boolean
  /** Soak mode: minutes of mixed load at `soakMemoryMb`; undefined: the standard run. */
  soakMinutes: number | undefined
  soakMemoryMb: number
  /** Spawns per process kind for the cold-start and idle-RSS medians. */
  boots: number
  /** Admin URL used to create (and drop) the bench's own database. */
  databaseUrl: string
  /** Redis for L2; undefined: none. */
  redisUrl: string | undefined
  keepDatabase: boolean
  /** Extra environment for every app process (experiments: LOG_LEVEL=warn, WORKER_THREADS=1). */
  appEnv: Record<string, string>
  /** A/B: each entry is one more app process, with this environment and these Node flags. */
  compare: CompareVariant[]
  /** Interleaved rounds of each app scenario (the median kept): 3 with --compare, else 1. */
  rounds: number
  help: boolean
}

/** One --compare process: the app with more environment, more Node flags, or both. */
export interface CompareVariant {
  env: Record<string, string>
  /** After the plan's flags on node's command line. */
  nodeArgs: string[]
}

export class UsageError extends Error {
  override name = 'UsageError'
}

export const SCENARIO_NAMES: readonly string[] = SCENARIOS.map((s) => s.name)

export const HELP = `Usage: npm run bench -- [options]

Runs the production build through the bootstrap (node dist/app/start.js), a bare Fastify
hello-world and a bare node:http server on the same Node, each in its own free-tier box (a
cgroup with a CPU quota and a memory limit; Linux, root), with the load generator (autocannon)
outside the boxes. Reports cold start, req/s, p50/p99, CPU time per request, idle and peak RSS,
each against bare Fastify measured in the same run. Writes JSON, markdown and an SVG of RSS
over the run against the memory limit. Where no box can be made it says why and runs pinned.

Options:
  --cpu <share>            CPU quota of each box, in cores (default 0.1: Render's free tier)
  --memory <mb>            memory limit of each box (default 512)
  --no-box                 no cgroups: pin the server to CPU 0 and the load to CPU 1 instead
  --quick                  short smoke run (CI): 2 s per scenario, less data, one boot each
  --duration <s>           measured seconds per scenario (default 10; quick 2)
  --warmup <s>             seconds of the server's CPU under unmeasured load before each scenario
                           (default 5; quick 0.05); in a box this is s ÷ its CPU share of wall
                           time (50 s at 0.1 CPU), so the JIT gets as far as on a free core
  --connections <n>        concurrent connections (default 10)
  --boots <n>              spawns per process for the cold-start and idle medians (default 3; quick 1)
  --scenario <names>       comma-separated subset (repeatable); see the list below
  --compare <K=V,...>      A/B: one more app process with this environment, measured like the app
                           (repeatable), e.g. --compare LOG_LEVEL=warn; an item that starts with
                           -- is a Node flag instead, e.g. --compare=--single-threaded-gc
  --rounds <n>             measure each app scenario n times, interleaved across the app and its
                           --compare processes, and keep the median (default 3 with --compare, else 1)
  --env <KEY=VALUE>        extra environment for every app process (repeatable)
  --out <dir>              where results go (default .data/bench)
  --embedded               embedded Postgres (PGlite, NODE_ENV=development) instead of the local one
  --database-url <url>     Postgres to create the bench database in
                           (default $DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --redis-url <url>        Redis for the app (default $REDIS_URL or redis://127.0.0.1:6379)
  --no-redis               run without Redis
  --soak <minutes>         soak mode: sustained mixed load; exit code 1 if RSS crossed the limit
  --soak-memory <mb>       the soak's memory limit (default 256)
  --keep-db                do not drop the bench database at the end
  -h, --help               this text

Scenarios (bench/scenarios.ts): ${SCENARIO_NAMES.join(', ')}
`

function positive(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n < min) {
    throw new UsageError(`--${name}: got ${JSON.stringify(value)}, expected a number >= ${min}`)
  }
  return n
}

/** KEY=VALUE pairs into an environment; `flag` names the option in the error. */
function environment(flag: string, pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const pair of pairs) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair)
    if (!match) throw new UsageError(`--${flag}: got ${JSON.stringify(pair)}, expected KEY=VALUE`)
    env[match[1] as string] = match[2] as string
  }
  return env
}

const NODE_FLAG = /^--[a-z0-9][a-z0-9_-]*(=.*)?$/i

/** One --compare list: Node flags (`--name[=value]`) and KEY=VALUE pairs, in any order. */
function compareVariant(list: string): CompareVariant {
  const nodeArgs: string[] = []
  const pairs: string[] = []
  for (const item of list.split(',')) {
    if (!item.startsWith('--')) pairs.push(item)
    else if (NODE_FLAG.test(item)) nodeArgs.push(item)
    else {
      throw new UsageError(
        `--compare: got ${JSON.stringify(item)}, expected a Node flag --name[=value]`,
      )
    }
  }
  return { env: environment('compare', pairs), nodeArgs }
}

/** Pure: argv (without node and script) and the environment in, options out. */
export function parseBenchArgs(argv: string[], env: NodeJS.ProcessEnv = {}): BenchOptions {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const v = parsed.values
  const quick = v.quick === true
  const scenarios = v.scenario?.flatMap((s) => s.split(',')).map((s) => s.trim())
  for (const name of scenarios ?? []) {
    if (!SCENARIO_NAMES.includes(name)) {
      throw new UsageError(
        `--scenario: unknown ${JSON.stringify(name)}; one of ${SCENARIO_NAMES.join(', ')}`,
      )
    }
  }
  const cpus = positive('cpu', v.cpu, 0.1, 0.01)
  if (cpus > 64) throw new UsageError(`--cpu: got ${v.cpu}, expected at most 64`)
  const soak = v.soak === undefined ? undefined : positive('soak', v.soak, 0, 0.05)
  return {
    quick,
    durationS: positive('duration', v.duration, quick ? 2 : 10, 0.5),
    warmupCpuS: positive('warmup', v.warmup, quick ? 0.05 : 5, 0),
    connections: Math.floor(positive('connections', v.connections, 10)),
    cpus,
    memoryMb: Math.floor(positive('memory', v.memory, 512, 64)),
    box: v['no-box'] !== true,
    scenarios: scenarios && scenarios.length > 0 ? scenarios : undefined,
    outDir: v.out ?? '.data/bench',
    embedded: v.embedded === true,
    soakMinutes: soak,
    soakMemoryMb: Math.floor(positive('soak-memory', v['soak-memory'], 256, 64)),
    boots: Math.floor(positive('boots', v.boots, quick ? 1 : 3)),
    databaseUrl:
      v['database-url'] ?? env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: v['no-redis']
      ? undefined
      : (v['redis-url'] ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
    appEnv: environment('env', v.env ?? []),
    compare: (v.compare ?? []).map(compareVariant),
    rounds: Math.floor(positive('rounds', v.rounds, v.compare ? 3 : 1)),
    keepDatabase: v['keep-db'] === true,
    help: v.help === true,
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      cpu: { type: 'string' },
      memory: { type: 'string' },
      'no-box': { type: 'boolean' },
      quick: { type: 'boolean' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      boots: { type: 'string' },
      scenario: { type: 'string', multiple: true },
      compare: { type: 'string', multiple: true },
      rounds: { type: 'string' },
      env: { type: 'string', multiple: true },
      out: { type: 'string' },
      embedded: { type: 'boolean' },
      'database-url': { type: 'string' },
      'redis-url': { type: 'string' },
      'no-redis': { type: 'boolean' },
      soak: { type: 'string' },
      'soak-memory': { type: 'string' },
      'keep-db': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

/** True when a scenario was asked for (all are, unless --scenario narrowed the list). */
export function wants(options: BenchOptions, name: string): boolean {
  return options.scenarios === undefined || options.scenarios.includes(name)
}
