import t from 'tap'
import { ALL_SCENARIOS, parseBenchArgs, UsageError, wants } from '../args.js'
import { isMissingRoute } from '../http.js'
import { type LoadResult, pickKind } from '../load-spec.js'
import { makeNote } from '../notes.js'
import {
  checkTargets,
  markdownReport,
  processTable,
  readmeSection,
  replaceSection,
  scenarioTable,
} from '../report.js'
import type { BenchResult, ProcessResult, ScenarioResult } from '../result.js'
import {
  cpuMicrosPerRequest,
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
    connections: 10,
    memoryLimitMb: 512,
    scenarios: undefined,
    outDir: '.data/bench',
    embedded: false,
    soakMinutes: undefined,
    soakMemoryLimitMb: 256,
    redisUrl: 'redis://127.0.0.1:6379',
    databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
    help: false,
  })
  const quick = parseBenchArgs(['--quick'])
  t.equal(quick.durationS, 2)
  t.ok(quick.notes < full.notes && quick.boots < full.boots, 'quick seeds and boots less')
  t.equal(parseBenchArgs(['--quick', '--duration', '5']).durationS, 5, 'explicit beats quick')
  t.equal(parseBenchArgs([], { MEMORY_LIMIT_MB: '384' }).memoryLimitMb, 384, 'env default')
  t.equal(parseBenchArgs(['--memory-limit', '256'], { MEMORY_LIMIT_MB: '384' }).memoryLimitMb, 256)
  const env = { DATABASE_URL: 'postgres://u@h/db', REDIS_URL: 'redis://r:1' }
  t.equal(parseBenchArgs([], env).databaseUrl, env.DATABASE_URL)
  t.equal(parseBenchArgs([], env).redisUrl, env.REDIS_URL)
  t.equal(parseBenchArgs(['--no-redis'], env).redisUrl, undefined)
  const many = parseBenchArgs([
    '--scenario',
    'healthz,read-l1',
    '--scenario',
    'overload',
    '--soak',
    '0.5',
    '--out',
    '/tmp/x',
    '--embedded',
    '--connections',
    '32',
    '--keep-db',
    '--update-readme',
    '--env',
    'LOG_LEVEL=warn',
    '--env',
    'X_Y=a=b',
    '-h',
  ])
  t.same(many.appEnv, { LOG_LEVEL: 'warn', X_Y: 'a=b' })
  t.same(full.appEnv, {})
  t.same(many.scenarios, ['healthz', 'read-l1', 'overload'])
  t.equal(many.soakMinutes, 0.5)
  t.equal(many.outDir, '/tmp/x')
  t.ok(many.embedded && many.keepDatabase && many.updateReadme && many.help)
  t.equal(many.connections, 32)
  t.ok(wants(many, 'read-l1'))
  t.notOk(wants(many, 'create'))
  t.ok(
    ALL_SCENARIOS.every((name) => wants(full, name)),
    'no --scenario: every scenario',
  )
})

t.test('arguments: bad input is a usage error naming the flag', async (t) => {
  t.throws(() => parseBenchArgs(['--duration', 'abc']), UsageError)
  t.throws(() => parseBenchArgs(['--duration', 'abc']), /--duration: got "abc"/)
  t.throws(() => parseBenchArgs(['--memory-limit', '32']), /expected a number >= 64/)
  t.throws(() => parseBenchArgs(['--scenario', 'nope']), /unknown "nope"/)
  t.throws(() => parseBenchArgs(['--env', 'lower=1']), /--env: got "lower=1", expected KEY=VALUE/)
  t.throws(() => parseBenchArgs(['--bogus']), UsageError)
  t.throws(() => parseBenchArgs(['stray']), UsageError)
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
  t.equal(cpuMicrosPerRequest(150, 100, 30000), 50, '1.5 s of CPU over 30k requests')
  t.equal(cpuMicrosPerRequest(10, 100, 0), undefined)
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

t.test('seeded notes are realistic and deterministic', async (t) => {
  t.same(makeNote(7), makeNote(7))
  t.not(makeNote(7).body, makeNote(8).body)
  const sizes = Array.from({ length: 200 }, (_, i) => Buffer.byteLength(makeNote(i).body))
  t.ok(Math.min(...sizes) >= 150, `smallest body ${Math.min(...sizes)} B`)
  t.ok(Math.max(...sizes) <= 8192, `largest body ${Math.max(...sizes)} B`)
  const all = Array.from({ length: 200 }, (_, i) => makeNote(i).body).join('\n')
  for (const feature of ['\n## ', '\n- ', '```', '](https://', '**', '<img', '\n> ']) {
    t.ok(all.includes(feature), `bodies use ${JSON.stringify(feature)}`)
  }
  for (let i = 0; i < 200; i++) {
    const { title } = makeNote(i)
    t.ok(title.length > 0 && title.length <= 200 && title.endsWith(`#${i}`), 'title')
  }
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
  bootMs: [300, 320, 310],
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
      name: 'baseline-healthz',
      title: '/healthz',
      process: 'baseline',
      how: 'GET /healthz',
      connections: 10,
      load: load({ requestsPerSecond: 10000 }),
      cpuMicrosPerRequest: 50,
      throughputRatio: 1,
      cpuRatio: 1,
      peakRssMb: 50,
    },
    {
      name: 'read-l1',
      title: 'GET note, L1 hit',
      process: 'app',
      how: 'hot ids',
      connections: 10,
      load: load({ xCache: { l1: 900, miss: 100 } }),
      cpuMicrosPerRequest: 70,
      throughputRatio: 0.85,
      cpuRatio: 1.4,
      peakRssMb: 95,
      otherCpuShare: 0.12,
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
      pinned: true,
      pinning: 'pinned',
      loadAverage: [0.5, 1.25],
    },
    command: 'npm run bench',
    database: 'local Postgres',
    processes: [
      proc('baseline', { memoryLimitMb: undefined, shedRssMb: undefined, idleRssMb: [50] }),
      proc('app', { bootMs: [400, 600, 500], bootCpuMs: [300, 300, 300], peakRssMb: 210 }),
      proc('app (overload)', { memoryLimitMb: 256, shedRssMb: 218 }),
    ],
    scenarios,
    timeline: {
      samples: [
        { t: 0, rss: 50 * MB },
        { t: 1, rss: 52 * MB },
        { t: 2.5, rss: 90 * MB },
        { t: 3, rss: 95 * MB },
      ],
      segments: [
        { label: 'baseline', start: 0, end: 1, limitMb: undefined, shedMb: undefined },
        { label: 'app <L1>', start: 2, end: 3, limitMb: 512, shedMb: 435 },
      ],
      marks: [{ label: 'read & "l1"', start: 2.2, end: 2.9 }],
    },
  }
}

t.test('markdown: process and scenario tables', async (t) => {
  const result = sampleResult()
  const processes = processTable(result.processes)
  t.match(processes, /\| baseline \| baseline \| 310 \(n=3\) \| {2}\| 210 \| {2}\| 50\.0 \|/)
  t.match(
    processes,
    /\| app \| app \| 500 \(n=3\) \| \+190 ms \| 300 \| \+90 ms \| 61\.0 \| \+11\.0 MB \|/,
  )
  const scenarios = scenarioTable(result.scenarios)
  const lines = scenarios.split('\n')
  t.equal(lines.length, 2 + result.scenarios.length, 'a header, a rule and one row each')
  for (const line of lines) t.equal(line.split('|').length, 15, `13 columns: ${line.slice(0, 40)}`)
  t.match(scenarios, /\| GET note, L1 hit \| app \| 10 \| 5,000 \| 0\.85× \|/)
  t.match(scenarios, /l1 90%, miss 10% \| 95\.0 \| 12% \|/)
  t.match(scenarios, /skipped: no Redis <here>/)
  t.match(scenarios, /503: 100, ECONNRESET: 2/)
  const report = markdownReport(result)
  t.match(
    report,
    /Node 20\.20\.2, 2 × Test CPU; pinned; local Postgres; load average 0\.50 at the start, 1\.25 at the end/,
  )
  t.match(report, /- \*\*GET note, L1 hit\*\*: hot ids/)
  t.notMatch(report, /\*\*GET note, L2 hit\*\*/, 'a skipped scenario has no how-line')
})

t.test('targets: each checked against the run', async (t) => {
  const checks = checkTargets(sampleResult())
  const get = (prefix: string) => checks.find((c) => c.target.startsWith(prefix))
  t.equal(get('idle RSS')?.met, true, '61 MB vs 50 MB is within 20 MB')
  t.equal(get('boot')?.met, false, '+190 ms is over 150 ms')
  t.match(get('boot')?.measured, /500 ms vs 310 ms \(\+190 ms\); CPU 300 ms vs 210 ms \(\+90 ms\)/)
  t.equal(get('L1-hit read')?.met, true)
  t.equal(get('L1-hit CPU')?.met, false)
  t.equal(get('peak RSS')?.met, false, '210 MB over 200 MB')
  t.equal(get('overload: 503')?.met, false, 'resets fail it')
  t.match(get('overload: 503')?.measured, /100 × 503 \(0 without Retry-After\), 2 resets/)
  t.equal(get('overload: RSS')?.met, true)
  t.equal(get('soak'), undefined, 'no soak in a standard run')

  const clean = sampleResult()
  const overload = clean.scenarios.find((s) => s.name === 'overload') as ScenarioResult
  overload.load = load({ statuses: { '503': 10, '200': 5 }, status503WithRetryAfter: 10 })
  t.equal(checkTargets(clean).find((c) => c.target.startsWith('overload: 503'))?.met, true)
  overload.load = load({ statuses: { '503': 10, '500': 1 }, status503WithRetryAfter: 10 })
  t.equal(
    checkTargets(clean).find((c) => c.target.startsWith('overload: 503'))?.met,
    false,
    '500s fail it',
  )

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

t.test('README section replacement keeps everything outside the markers', async (t) => {
  const readme = 'top\n<!-- section:bench -->\nold\n<!-- section:bench-end -->\nbottom\n'
  const next = replaceSection(readme, 'new body\n')
  t.equal(next, 'top\n<!-- section:bench -->\nnew body\n<!-- section:bench-end -->\nbottom\n')
  t.equal(replaceSection(next, 'new body'), next, 'idempotent')
  t.throws(() => replaceSection('no markers', 'x'), /no <!-- section:bench -->/)
  const section = readmeSection(sampleResult(), 'docs/bench-rss.svg')
  t.match(section, /npm run bench -- --quick/)
  t.match(section, /!\[RSS over the run[^\]]*\]\(docs\/bench-rss\.svg\)/)
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
