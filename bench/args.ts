import { parseArgs } from 'node:util'

/** Everything one `npm run bench` invocation is asked to do. */
export interface BenchOptions {
  quick: boolean
  /** Seconds of measured load per scenario. */
  durationS: number
  /** Seconds of unmeasured load before each scenario (JIT, caches, pools). */
  warmupS: number
  connections: number
  /** MEMORY_LIMIT_MB of the standard run. */
  memoryLimitMb: number
  /** Scenario names to run; undefined: all. */
  scenarios: string[] | undefined
  /** Directory the JSON, markdown and SVG are written to. */
  outDir: string
  embedded: boolean
  /** Soak mode: minutes of mixed load at `soakMemoryLimitMb`; undefined: the standard run. */
  soakMinutes: number | undefined
  soakMemoryLimitMb: number
  overloadConnections: number
  overloadMemoryLimitMb: number
  /** Notes seeded before the first measurement. */
  notes: number
  /** Spawns per process kind for the boot-time and idle-RSS medians. */
  boots: number
  /** Admin URL used to create (and drop) the bench's own database. */
  databaseUrl: string
  /** Redis for L2; undefined: none (the L2 scenario is skipped). */
  redisUrl: string | undefined
  keepDatabase: boolean
  /** Extra environment for every app process (experiments: LOG_LEVEL=warn, WORKER_THREADS=1). */
  appEnv: Record<string, string>
  /** Also write docs/bench-rss.svg and the README `bench` section. */
  updateReadme: boolean
  help: boolean
}

export class UsageError extends Error {
  override name = 'UsageError'
}

export const HELP = `Usage: npm run bench -- [options]

Runs the production build through the bootstrap (node dist/scripts/start.js) and a bare Fastify
hello-world on the same Node, the server pinned to CPU 0 and the load generator (autocannon) to
CPU 1, and reports req/s, p50/p99, non-2xx by status, CPU time per request, boot time, idle and
peak RSS, each against the baseline. Writes JSON, markdown and an SVG of RSS over the run.

Options:
  --quick                  short smoke run (CI): 2 s per scenario, fewer notes and boots
  --duration <s>           measured seconds per scenario (default 10; quick 2)
  --warmup <s>             unmeasured seconds before each scenario (default 2; quick 0.5)
  --connections <n>        concurrent connections (default 10)
  --memory-limit <mb>      MEMORY_LIMIT_MB of the standard run (default $MEMORY_LIMIT_MB or 512)
  --scenario <names>       comma-separated subset (repeatable); see the list below
  --out <dir>              where results go (default .data/bench)
  --embedded               embedded Postgres (PGlite, NODE_ENV=development) instead of the local one
  --database-url <url>     Postgres to create the bench database in
                           (default $DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --redis-url <url>        Redis for the L2 cache (default $REDIS_URL or redis://127.0.0.1:6379)
  --no-redis               run without Redis (the L2 scenario is skipped)
  --notes <n>              notes to seed (default 2000; quick 300)
  --boots <n>              spawns per process for boot/idle medians (default 5; quick 1)
  --overload-connections <n>   connections of the overload scenario (default 400; quick 200)
  --overload-memory-limit <mb> MEMORY_LIMIT_MB of the overload scenario (default 256)
  --soak <minutes>         soak mode: sustained mixed load; exit code 1 if RSS crossed the limit
  --soak-memory-limit <mb> MEMORY_LIMIT_MB of the soak (default 256)
  --env <KEY=VALUE>        extra environment for the app processes (repeatable), e.g. LOG_LEVEL=warn
  --keep-db                do not drop the bench database at the end
  --update-readme          also write docs/bench-rss.svg and the README bench section
  -h, --help               this text

Scenarios: healthz, read-l1, read-l2, read-uncached, create, html-uncached, overload
`

const SCENARIO_NAMES = [
  'healthz',
  'read-l1',
  'read-l2',
  'read-uncached',
  'create',
  'html-uncached',
  'overload',
] as const
export type ScenarioName = (typeof SCENARIO_NAMES)[number]
export const ALL_SCENARIOS: readonly ScenarioName[] = SCENARIO_NAMES

function positive(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n < min) {
    throw new UsageError(`--${name}: got ${JSON.stringify(value)}, expected a number >= ${min}`)
  }
  return n
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
    if (!(SCENARIO_NAMES as readonly string[]).includes(name)) {
      throw new UsageError(
        `--scenario: unknown ${JSON.stringify(name)}; one of ${SCENARIO_NAMES.join(', ')}`,
      )
    }
  }
  const appEnv: Record<string, string> = {}
  for (const pair of v.env ?? []) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair)
    if (!match) throw new UsageError(`--env: got ${JSON.stringify(pair)}, expected KEY=VALUE`)
    appEnv[match[1] as string] = match[2] as string
  }
  const soak = v.soak === undefined ? undefined : positive('soak', v.soak, 0, 0.05)
  return {
    quick,
    durationS: positive('duration', v.duration, quick ? 2 : 10, 0.5),
    warmupS: positive('warmup', v.warmup, quick ? 0.5 : 2, 0),
    connections: Math.floor(positive('connections', v.connections, 10)),
    memoryLimitMb: Math.floor(
      positive('memory-limit', v['memory-limit'] ?? env.MEMORY_LIMIT_MB, 512, 64),
    ),
    scenarios: scenarios && scenarios.length > 0 ? scenarios : undefined,
    outDir: v.out ?? '.data/bench',
    embedded: v.embedded === true,
    soakMinutes: soak,
    soakMemoryLimitMb: Math.floor(positive('soak-memory-limit', v['soak-memory-limit'], 256, 64)),
    overloadConnections: Math.floor(
      positive('overload-connections', v['overload-connections'], quick ? 200 : 400),
    ),
    overloadMemoryLimitMb: Math.floor(
      positive('overload-memory-limit', v['overload-memory-limit'], 256, 64),
    ),
    notes: Math.floor(positive('notes', v.notes, quick ? 300 : 2000)),
    boots: Math.floor(positive('boots', v.boots, quick ? 1 : 5)),
    databaseUrl:
      v['database-url'] ?? env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: v['no-redis']
      ? undefined
      : (v['redis-url'] ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
    appEnv,
    keepDatabase: v['keep-db'] === true,
    updateReadme: v['update-readme'] === true,
    help: v.help === true,
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      'memory-limit': { type: 'string' },
      scenario: { type: 'string', multiple: true },
      out: { type: 'string' },
      embedded: { type: 'boolean' },
      'database-url': { type: 'string' },
      'redis-url': { type: 'string' },
      'no-redis': { type: 'boolean' },
      notes: { type: 'string' },
      boots: { type: 'string' },
      'overload-connections': { type: 'string' },
      'overload-memory-limit': { type: 'string' },
      soak: { type: 'string' },
      'soak-memory-limit': { type: 'string' },
      env: { type: 'string', multiple: true },
      'keep-db': { type: 'boolean' },
      'update-readme': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

/** True when a scenario was asked for (all are, unless --scenario narrowed the list). */
export function wants(options: BenchOptions, name: ScenarioName): boolean {
  return options.scenarios === undefined || options.scenarios.includes(name)
}
