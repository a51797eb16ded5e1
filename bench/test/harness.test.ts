import t from 'tap'
import { parseBenchArgs, SCENARIO_NAMES, UsageError, wants } from '../args.js'
import { type LoadResult, pickKind } from '../load-spec.js'
import { checkTargets, keyTable, markdownReport, processTable, scenarioTable } from '../report.js'
import {
  type BenchResult,
  type ProcessResult,
  referenceOf,
  type ScenarioResult,
} from '../result.js'
import { hasRatioTarget, isMissingRoute } from '../scenario.js'
import { SCENARIOS } from '../scenarios.js'
import {
  MB,
  median,
  otherShare,
  parseCoreTicks,
  parseCpuTicks,
  parseParentPid,
  parseStatusKb,
  ratio,
} from '../stats.js'
import { escapeXml, niceStep, renderRssSvg } from '../svg.js'

t.test('arguments: defaults, --quick, and every flag', async (t) => {
  const full = parseBenchArgs([], {})
  t.match(full, {
    quick: false,
    durationS: 10,
    warmupCpuS: 5,
    connections: 10,
    cpus: 0.1,
    memoryMb: 512,
    box: true,
    boots: 3,
    scenarios: undefined,
    outDir: '.data/bench',
    embedded: false,
    soakMinutes: undefined,
    soakMemoryMb: 256,
    redisUrl: 'redis://127.0.0.1:6379',
    databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
    compare: [],
    rounds: 1,
    help: false,
  })
  const quick = parseBenchArgs(['--quick'])
  t.equal(quick.durationS, 2)
  t.equal(quick.warmupCpuS, 0.05, 'quick warms for 0.5 s in a 0.1-CPU box')
  t.equal(parseBenchArgs(['--warmup', '0']).warmupCpuS, 0, 'no warm-up at all')
  t.ok(quick.boots < full.boots, 'quick boots less')
  t.equal(parseBenchArgs(['--quick', '--duration', '5']).durationS, 5, 'explicit beats quick')
  t.same(parseBenchArgs(['--cpu', '0.5', '--memory', '256', '--no-box']), {
    ...parseBenchArgs([]),
    cpus: 0.5,
    memoryMb: 256,
    box: false,
  })
  const env = { DATABASE_URL: 'postgres://u@h/db', REDIS_URL: 'redis://r:1' }
  t.equal(parseBenchArgs([], env).databaseUrl, env.DATABASE_URL)
  t.equal(parseBenchArgs([], env).redisUrl, env.REDIS_URL)
  t.equal(parseBenchArgs(['--no-redis'], env).redisUrl, undefined)
  const many = parseBenchArgs([
    '--scenario',
    'healthz',
    '--scenario',
    'openapi',
    '--soak',
    '0.5',
    '--out',
    '/tmp/x',
    '--embedded',
    '--connections',
    '32',
    '--keep-db',
    '--env',
    'LOG_LEVEL=warn',
    '--env',
    'X_Y=a=b',
    '--compare',
    'A=1,B=2',
    '--compare',
    'C=',
    '--compare=--single-threaded-gc,D=1,--max-semi-space-size=4',
    '-h',
  ])
  t.same(many.appEnv, { LOG_LEVEL: 'warn', X_Y: 'a=b' })
  t.same(full.appEnv, {})
  t.same(
    many.compare,
    [
      { env: { A: '1', B: '2' }, nodeArgs: [] },
      { env: { C: '' }, nodeArgs: [] },
      { env: { D: '1' }, nodeArgs: ['--single-threaded-gc', '--max-semi-space-size=4'] },
    ],
    'one A/B process per --compare; items starting with -- are Node flags',
  )
  t.equal(many.rounds, 3, 'an A/B measures 3 interleaved rounds by default')
  t.equal(parseBenchArgs(['--compare', 'A=1', '--rounds', '5']).rounds, 5)
  t.same(many.scenarios, ['healthz', 'openapi'], 'generic scenarios: the example may be gone')
  t.equal(many.soakMinutes, 0.5)
  t.equal(many.outDir, '/tmp/x')
  t.ok(many.embedded && many.keepDatabase && many.help)
  t.equal(many.connections, 32)
  t.ok(wants(many, 'openapi'))
  t.notOk(wants(parseBenchArgs(['--scenario', 'healthz']), 'openapi'))
  t.ok(
    SCENARIO_NAMES.every((name) => wants(full, name)),
    'no --scenario: every scenario',
  )
})

t.test('arguments: bad input is a usage error naming the flag', async (t) => {
  t.throws(() => parseBenchArgs(['--duration', 'abc']), UsageError)
  t.throws(() => parseBenchArgs(['--duration', 'abc']), /--duration: got "abc"/)
  t.throws(() => parseBenchArgs(['--memory', '32']), /expected a number >= 64/)
  t.throws(() => parseBenchArgs(['--cpu', '0']), /--cpu: got "0", expected a number >= 0.01/)
  t.throws(() => parseBenchArgs(['--cpu', '100']), /--cpu: got 100, expected at most 64/)
  t.throws(() => parseBenchArgs(['--scenario', 'nope']), /unknown "nope"/)
  t.throws(() => parseBenchArgs(['--env', 'lower=1']), /--env: got "lower=1", expected KEY=VALUE/)
  t.throws(() => parseBenchArgs(['--compare', 'A=1,b']), /--compare: got "b", expected KEY=VALUE/)
  t.throws(
    () => parseBenchArgs(['--compare=--no such']),
    /--compare: got "--no such", expected a Node flag --name\[=value\]/,
  )
  t.throws(
    () => parseBenchArgs(['--compare', '--single-threaded-gc']),
    UsageError,
    'needs --compare=',
  )
  t.throws(() => parseBenchArgs(['--bogus']), UsageError)
  t.throws(() => parseBenchArgs(['stray']), UsageError)
})

t.test('the scenario list: unique names, /healthz first, every hook a function', async (t) => {
  t.equal(SCENARIOS[0]?.name, 'healthz')
  t.equal(new Set(SCENARIO_NAMES).size, SCENARIO_NAMES.length, 'names are unique')
  for (const s of SCENARIOS) t.type(s.prepare, 'function', s.name)
  const labels = new Map<string, string>()
  for (const s of SCENARIOS) {
    if (!s.variant) continue
    const config = JSON.stringify(s.variant)
    t.equal(
      labels.get(s.variant.label) ?? config,
      config,
      `one configuration per label (${s.name})`,
    )
    labels.set(s.variant.label, config)
  }
})

t.test('/proc parsing', async (t) => {
  // The command name may hold spaces and parentheses; fields are counted after the last ')'.
  const stat =
    '4242 (node (x) y) S 4241 4242 4242 0 -1 4194560 9000 0 0 0 1234 567 0 0 20 0 11 0 1000 1 2 3'
  t.equal(parseCpuTicks(stat), 1234 + 567)
  t.equal(parseParentPid(stat), 4241)
  t.throws(() => parseCpuTicks('1 (x) S'), /unexpected/)
  const status = 'Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t11\n'
  t.equal(parseStatusKb(status, 'VmRSS'), 100 * MB)
  t.equal(parseStatusKb(status, 'VmHWM'), 200 * MB)
  t.equal(parseStatusKb('Name:\tkthreadd\n', 'VmRSS'), undefined, 'kernel threads have none')
})

t.test('CPU left to the server: what others took of its core', async (t) => {
  const before = parseCoreTicks(
    'cpu  1 2 3 4\ncpu0 100 0 50 800 50 0 0 0 0 0\ncpu1 9 9 9 9 9 9 9 9\n',
    0,
  )
  t.same(before, { busy: 150, total: 1000 })
  const after = { busy: 150 + 90, total: 1000 + 100 }
  t.equal(otherShare(before, after, 60), 0.3, '90 busy ticks of 100, 60 of them the server')
  t.equal(otherShare(before, after, 95), 0, 'never negative (tick rounding)')
  t.equal(otherShare(before, before, 0), undefined)
  t.throws(() => parseCoreTicks('cpu 1 2 3\n', 3), /no cpu3 line/)
})

t.test('stats', async (t) => {
  t.equal(median([]), undefined)
  t.equal(median([5]), 5)
  t.equal(median([9, 1, 5]), 5)
  t.equal(median([4, 1, 3, 2]), 2.5)
  t.equal(ratio(8, 10), 0.8)
  t.equal(ratio(1, 3), 0.33)
  t.equal(ratio(undefined, 1), undefined)
  t.equal(ratio(1, 0), undefined)
})

t.test('request mix: weighted, deterministic, interleaved', async (t) => {
  const mix = [
    { weight: 3, method: 'GET' as const, paths: ['/a'] },
    { weight: 1, method: 'POST' as const, paths: ['/b'] },
  ]
  const picks = Array.from({ length: 4000 }, (_, n) => pickKind(mix, n))
  const posts = picks.filter((k) => k === 1).length
  t.ok(Math.abs(posts - 1000) < 20, `about a quarter are POSTs (${posts})`)
  t.same(
    picks,
    Array.from({ length: 4000 }, (_, n) => pickKind(mix, n)),
    'same every time',
  )
  let longestRun = 0
  let run = 0
  for (const pick of picks) {
    run = pick === 0 ? run + 1 : 0
    longestRun = Math.max(longestRun, run)
  }
  t.ok(longestRun < 10, `kinds interleave (longest run of GETs ${longestRun})`)
  t.equal(pickKind([mix[0] as (typeof mix)[0]], 7), 0)
})

t.test('a ratio target: req/s or CPU, not shedding alone', async (t) => {
  t.ok(hasRatioTarget({ targets: { minThroughputRatio: 0.8 } }))
  t.ok(hasRatioTarget({ targets: { maxCpuRatio: 1.25 } }))
  t.notOk(hasRatioTarget({ targets: { shedsLoad: true } }))
  t.notOk(hasRatioTarget({}))
})

t.test('a missing route is told apart from a missing note', async (t) => {
  const missing = (message: string) => ({
    status: 404,
    headers: {},
    body: JSON.stringify({ statusCode: 404, error: 'Not Found', message }),
  })
  t.ok(isMissingRoute(missing('Route POST /api/notes not found')))
  t.ok(isMissingRoute(missing('Route GET:/api/notes/1/html not found')))
  t.notOk(isMissingRoute(missing('note 1 not found')))
  t.notOk(isMissingRoute({ status: 404, headers: {}, body: 'not json' }))
  t.notOk(isMissingRoute({ status: 200, headers: {}, body: '{}' }))
})

const load = (over: Partial<LoadResult> = {}): LoadResult => ({
  durationS: 10,
  responses: 50000,
  requestsPerSecond: 5000,
  latencyP50Ms: 1,
  latencyP99Ms: 7,
  statuses: { '200': 50000 },
  errors: {},
  status503WithRetryAfter: 0,
  status503WithoutRetryAfter: 0,
  xCache: {},
  ...over,
})

const proc = (label: string, over: Partial<ProcessResult> = {}): ProcessResult => ({
  label,
  config: label,
  memoryLimitMb: 512,
  shedRssMb: 435,
  bootMs: [3000, 3200, 3100],
  coldReadMs: [],
  bootCpuMs: [200, 210, 220],
  idleRssMb: [60, 61, 62],
  idleServerRssMb: [60, 61, 62],
  peakRssMb: 90,
  exits: [],
  leakGuardFired: false,
  ...over,
})

function sampleResult(): BenchResult {
  const scenarios: ScenarioResult[] = [
    {
      name: 'healthz',
      title: '/healthz',
      process: 'bare Fastify',
      how: 'GET /healthz',
      connections: 10,
      load: load({ requestsPerSecond: 2000, latencyP99Ms: 10 }),
      warmup: { seconds: 50, requestsPerSecond: 1800 },
      cpuMicrosPerRequest: 50,
      throughputRatio: 1,
      cpuRatio: 1,
      p99Ratio: 1,
      peakRssMb: 50,
    },
    {
      name: 'read-l1',
      title: 'GET note, L1 hit',
      process: 'app',
      how: 'hot ids',
      connections: 10,
      load: load({ requestsPerSecond: 1700, xCache: { l1: 900, miss: 100 } }),
      warmup: { seconds: 50, requestsPerSecond: 900 },
      cpuMicrosPerRequest: 70,
      throughputRatio: 0.85,
      cpuRatio: 1.4,
      p99Ratio: 0.7,
      peakRssMb: 95,
    },
    {
      name: 'read-l1',
      title: 'GET note, L1 hit',
      process: 'bare Fastify, same responses',
      how: 'hot ids',
      connections: 10,
      load: load({ requestsPerSecond: 2000, xCache: { l1: 1000 } }),
      cpuMicrosPerRequest: 60,
      throughputRatio: 1,
      cpuRatio: 1.2,
      p99Ratio: 0.7,
      peakRssMb: 80,
    },
    {
      name: 'read-l2',
      title: 'GET note, L2 hit',
      process: 'app (L1 off)',
      how: '',
      skipped: 'no Redis <here>',
    },
    {
      name: 'overload',
      title: 'overload',
      process: 'app (overload)',
      how: 'many connections',
      connections: 400,
      load: load({
        statuses: { '200': 900, '503': 100 },
        status503WithRetryAfter: 100,
        errors: { ECONNRESET: 2 },
      }),
      peakRssMb: 120,
    },
  ]
  return {
    kind: 'bench',
    startedAt: '2026-01-02T03:04:05.000Z',
    finishedAt: '2026-01-02T03:08:05.000Z',
    node: '20.20.2',
    machine: {
      cpus: 2,
      model: 'Test CPU',
      pinned: false,
      pinning: 'boxed',
      box: { cgroup: 'v1', cpus: 0.1, memoryMb: 512 },
      loadAverage: [0.5, 1.25],
    },
    command: 'npm run bench',
    database: 'local Postgres',
    warmupCpuS: 5,
    processes: [
      proc('bare Fastify', { idleRssMb: [50], box: { peakMb: 30, oomKills: 0 } }),
      proc('bare node:http', { bootMs: [1500], idleRssMb: [40] }),
      proc('bare Fastify, same responses', { bootMs: [3000], idleRssMb: [52], peakRssMb: 300 }),
      proc('app', {
        bootMs: [4000, 6000, 5000],
        coldReadMs: [5500, 6500, 7000],
        bootCpuMs: [300, 300, 300],
        peakRssMb: 210,
        box: { peakMb: 120, oomKills: 0 },
        plan: 'memory limit 512MB (from cgroup v1)',
      }),
      proc('app (overload)', {
        memoryLimitMb: 256,
        shedRssMb: 218,
        peakRssMb: 250,
        box: { peakMb: 200, oomKills: 1 },
      }),
    ],
    scenarios,
    targets: {
      'read-l1': { minThroughputRatio: 0.8, maxCpuRatio: 1.25 },
      overload: { shedsLoad: true },
    },
    timeline: {
      samples: [
        { t: 0, rss: 50 * MB },
        { t: 1, rss: 52 * MB },
        { t: 2.5, rss: 90 * MB },
        { t: 3, rss: 95 * MB },
      ],
      segments: [
        { label: 'bare Fastify', start: 0, end: 1, limitMb: undefined, shedMb: undefined },
        { label: 'app <L1>', start: 2, end: 3, limitMb: 512, shedMb: 435 },
      ],
      marks: [{ label: 'read & "l1"', start: 2.2, end: 2.9 }],
    },
  }
}

t.test('markdown: key, process and scenario tables', async (t) => {
  const result = sampleResult()
  const processes = processTable(result.processes)
  t.match(
    processes,
    /\| bare Fastify \| bare Fastify \| 3\.10 s \(n=3\) \| 1\.00× \| – \| – \| 210 \| 1\.00× \| 50\.0 \| {2}\|/,
  )
  t.match(
    processes,
    /\| app \| app \| 5\.00 s \(n=3\) \| 1\.61× \| 6\.50 s \| 2\.10× \| 300 \| 1\.43× \| 61\.0 \| \+11\.0 MB \| 210\.0 \| 120\.0 \/ 0 \|/,
  )
  t.match(processes, /\| 200\.0 \/ 1 \|/, 'OOM kills from the box')
  const scenarios = scenarioTable(result.scenarios)
  const lines = scenarios.split('\n')
  t.equal(lines.length, 2 + result.scenarios.length, 'a header, a rule and one row each')
  for (const line of lines) t.equal(line.split('|').length, 15, `13 columns: ${line.slice(0, 40)}`)
  t.match(
    scenarios,
    /\| GET note, L1 hit \| app \| 10 \| 1,700 \| 0\.85× \| 1\.0 \| 7\.0 \| 0\.70× \| 70 \| 1\.40× \|/,
  )
  t.match(scenarios, /l1 90%, miss 10% \| 95\.0 \|$/m)
  t.match(scenarios, /skipped: no Redis <here>/)
  t.match(scenarios, /503: 100, ECONNRESET: 2/)
  const pinned = scenarioTable([
    { ...(result.scenarios[0] as ScenarioResult), otherCpuShare: 0.12 },
  ])
  t.match(pinned, /server CPU busy with others \|/, 'the column appears when pinned')
  t.match(pinned, /\| 12% \|$/m)

  const key = keyTable(result)
  t.match(
    key,
    /^\| in the box \(0\.1 CPU, 512 MB\) \| bare node:http \| bare Fastify \| app \| app ÷ bare Fastify \|/,
  )
  t.match(
    key,
    /\| cold start: spawn → first 200 on \/healthz \| 1\.50 s \| 3\.10 s \| 5\.00 s \| 1\.61× \|/,
  )
  t.match(key, /\| cold start: spawn → first cached read \| \| \| 6\.50 s \| 2\.10× \|/)
  t.match(key, /\| idle RSS, MB \(± MB\) \| 40\.0 \| 50\.0 \| 61\.0 \| \+11\.0 \|/)
  t.match(key, /\| GET note, L1 hit: req\/s \| \| 2,000 \(\/healthz\) \| 1,700 \| 0\.85× \|/)
  t.match(
    key,
    /\| GET note, L1 hit: req\/s \| \| 2,000 \(same responses\) \| 1,700 \| 0\.85× \|/,
    "the app beside bare Fastify sending the app's own responses",
  )
  t.match(
    key,
    /\| GET note, L1 hit: CPU µs\/request \| \| 60 \(same responses\) \| 70 \| 1\.17× \|/,
  )
  t.match(
    key,
    /\| GET note, L1 hit: req\/s while warming up \(50 s\) \| \| 1,800 \(\/healthz\) \| 900 \| 0\.50× \|/,
    'what the app served while its JIT warmed, beside bare Fastify warming',
  )
  t.match(key, /\| peak RSS of any app process, MB \| 90\.0 \| 90\.0 \| 250\.0 \| \|/)

  // A window measured beside its own /healthz window shows that one, not the run's first.
  const beside = sampleResult()
  const read = beside.scenarios[1] as ScenarioResult
  read.reference = { rps: 2125, cpuUs: 56, p99Ms: 9, warmupRps: 1000 }
  const besideKey = keyTable(beside)
  t.match(
    besideKey,
    /\| GET note, L1 hit: req\/s \| \| 2,125 \(\/healthz beside it\) \| 1,700 \| 0\.85× \|/,
  )
  t.match(
    besideKey,
    /\| GET note, L1 hit: CPU µs\/request \| \| 56 \(\/healthz beside it\) \| 70 \| 1\.40× \|/,
  )
  t.match(
    besideKey,
    /\| GET note, L1 hit: req\/s while warming up \(50 s\) \| \| 1,000 \(\/healthz beside it\) \| 900 \| 0\.90× \|/,
  )
  t.notMatch(besideKey, /2,000 \(\/healthz\)/, "the run's first /healthz is not shown for it")

  const report = markdownReport(result)
  t.match(
    report,
    /Node 20\.20\.2, 2 × Test CPU; boxed; local Postgres; load average 0\.50 at the start, 1\.25 at the end/,
  )
  t.match(report, /The app's memory plan saw: memory limit 512MB \(from cgroup v1\)\./)
  t.match(report, /measured after 5 s of the server's CPU under load \(50 s in its box\)\./)
  t.match(report, /- \*\*GET note, L1 hit\*\*: hot ids/)
  t.notMatch(report, /\*\*GET note, L2 hit\*\*/, 'a skipped scenario has no how-line')
})

t.test('a /healthz window as the reference: its req/s, CPU, p99 and warm-up', async (t) => {
  const healthz = sampleResult().scenarios[0] as ScenarioResult
  t.same(referenceOf(healthz), { rps: 2000, cpuUs: 50, p99Ms: 10, warmupRps: 1800 })
  const { warmup: _, ...unwarmed } = healthz
  t.same(referenceOf(unwarmed), { rps: 2000, cpuUs: 50, p99Ms: 10 })
  t.equal(referenceOf({ ...healthz, load: undefined }), undefined, 'a window without load')
})

t.test('targets: each checked against the run', async (t) => {
  const checks = checkTargets(sampleResult())
  const get = (prefix: string) => checks.find((c) => c.target.startsWith(prefix))
  t.equal(get('cold start')?.met, false, '5.0 s against 3.1 s')
  t.match(get('cold start')?.measured, /5\.00 s vs 3\.10 s \(1\.61×\)/)
  t.equal(get('idle RSS')?.met, false, '+11 MB is over 10 MB')
  t.equal(get('app: under its limit')?.met, true)
  t.equal(get('app (overload): under its limit (256 MB)')?.met, false, 'an OOM kill fails it')
  t.equal(get('bare'), undefined, 'the baselines have no targets')
  t.equal(get('GET note, L1 hit (bare'), undefined, "nor does the replay of the app's responses")
  t.equal(get('GET note, L1 hit (app): req/s ≥ 0.8×')?.met, true)
  t.equal(get('GET note, L1 hit (app): CPU/request ≤ 1.25×')?.met, false)
  t.equal(get('overload (app (overload)): 503')?.met, false, 'resets fail it')
  t.match(
    get('overload (app (overload)): 503')?.measured,
    /100 × 503 \(0 without Retry-After\), 2 resets/,
  )
  t.equal(get('soak'), undefined, 'no soak in a standard run')

  const clean = sampleResult()
  const overload = clean.scenarios.find((s) => s.name === 'overload') as ScenarioResult
  overload.load = load({ statuses: { '503': 10, '200': 5 }, status503WithRetryAfter: 10 })
  const shed = () =>
    checkTargets(clean).find((c) => c.target.startsWith('overload (app (overload)): 503'))
  t.equal(shed()?.met, true)
  overload.load = load({ statuses: { '503': 10, '500': 1 }, status503WithRetryAfter: 10 })
  t.equal(shed()?.met, false, '500s fail it')

  const soaked = { ...sampleResult(), kind: 'soak' as const }
  soaked.soak = {
    minutes: 1,
    memoryLimitMb: 256,
    peakRssMb: 260,
    crossedLimit: true,
    shed503: 3,
    leakGuardFired: false,
    exit: undefined,
  }
  t.equal(checkTargets(soaked).find((c) => c.target.startsWith('soak'))?.met, false)
})

t.test('SVG: escaped labels, one line per process, limit and shedding lines', async (t) => {
  t.equal(escapeXml('a<b & "c"'), 'a&#60;b &#38; &#34;c&#34;')
  t.equal(niceStep(500, 8), 100)
  t.equal(niceStep(12, 10), 2)
  t.equal(niceStep(3, 10), 0.5)
  const svg = renderRssSvg(sampleResult().timeline, 'RSS <test>')
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
  t.match(svg, /<\/svg>\n$/)
  t.notMatch(svg, /<test>|<L1>|"l1"/, 'labels are escaped')
  t.match(svg, /RSS &#60;test&#62;/)
  t.equal(svg.match(/<polyline/g)?.length, 2, 'no line drawn across the gap between processes')
  t.equal(svg.match(/stroke="#d32f2f" stroke-width="2"/g)?.length, 2, 'limit: one segment + legend')
  const open = svg.match(/<(?!\/)[a-z]+[^>]*[^/]>/g)?.length ?? 0
  const closed = svg.match(/<\/[a-z]+>/g)?.length ?? 0
  t.equal(open, closed, 'every element that opens closes')
  const empty = renderRssSvg({ samples: [], segments: [], marks: [] }, 'empty')
  t.match(empty, /<\/svg>/, 'an empty run still draws axes')
})
