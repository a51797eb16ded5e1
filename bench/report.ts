import type { BenchResult, ProcessResult, ScenarioResult } from './result.js'
import { median } from './stats.js'

/** Markdown from a BenchResult (pure). */

const round = (n: number | undefined, digits = 0) =>
  n === undefined ? '–' : n.toFixed(digits).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
const times = (n: number | undefined) => (n === undefined ? '–' : `${n.toFixed(2)}×`)
const signed = (n: number | undefined, digits = 0) =>
  n === undefined ? '–' : `${n >= 0 ? '+' : ''}${n.toFixed(digits)}`

function statusSummary(s: ScenarioResult): string {
  if (!s.load) return '–'
  const parts = Object.entries(s.load.statuses)
    .filter(([code]) => !code.startsWith('2'))
    .map(([code, count]) => `${code}: ${count}`)
  for (const [code, count] of Object.entries(s.load.errors)) parts.push(`${code}: ${count}`)
  return parts.length === 0 ? '0' : parts.join(', ')
}

function cacheSummary(s: ScenarioResult): string {
  const x = s.load?.xCache ?? {}
  const total = Object.values(x).reduce((a, b) => a + b, 0)
  if (total === 0 || (Object.keys(x).length === 1 && x.none !== undefined)) return '–'
  return Object.entries(x)
    .sort((a, b) => b[1] - a[1])
    .map(([value, count]) => `${value} ${Math.round((count / total) * 100)}%`)
    .join(', ')
}

export function scenarioTable(scenarios: ScenarioResult[]): string {
  const rows = [
    '| scenario | process | conns | req/s | × baseline | p50 ms | p99 ms | CPU µs/req | × baseline | non-2xx / errors | x-cache | peak RSS MB | server CPU busy outside the server |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|---|---|--:|--:|',
  ]
  for (const s of scenarios) {
    if (s.skipped !== undefined) {
      rows.push(`| ${s.title} | ${s.process} | | skipped: ${s.skipped} | | | | | | | | | |`)
      continue
    }
    rows.push(
      `| ${s.title} | ${s.process} | ${s.connections ?? '–'} | ${round(s.load?.requestsPerSecond)} | ${times(s.throughputRatio)} | ${round(s.load?.latencyP50Ms, 1)} | ${round(s.load?.latencyP99Ms, 1)} | ${round(s.cpuMicrosPerRequest)} | ${times(s.cpuRatio)} | ${statusSummary(s)} | ${cacheSummary(s)} | ${round(s.peakRssMb, 1)} | ${s.otherCpuShare === undefined ? '–' : `${Math.round(s.otherCpuShare * 100)}%`} |`,
    )
  }
  return rows.join('\n')
}

export function processTable(processes: ProcessResult[]): string {
  const baseline = processes.find((p) => p.label === 'baseline')
  const baseBoot = median(baseline?.bootMs ?? [])
  const baseIdle = median(baseline?.idleRssMb ?? [])
  const baseCpu = median(baseline?.bootCpuMs ?? [])
  const rows = [
    '| process | configuration | boot ms (median) | vs baseline | boot CPU ms | vs baseline | idle RSS MB (median) | vs baseline | server alone MB | peak RSS MB |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  ]
  for (const p of processes) {
    const boot = median(p.bootMs)
    const idle = median(p.idleRssMb)
    const cpu = median(p.bootCpuMs)
    const isBase = p === baseline
    rows.push(
      `| ${p.label} | ${p.config} | ${round(boot)} (n=${p.bootMs.length}) | ${isBase || boot === undefined || baseBoot === undefined ? '' : `${signed(boot - baseBoot)} ms`} | ${round(cpu)} | ${isBase || cpu === undefined || baseCpu === undefined ? '' : `${signed(cpu - baseCpu)} ms`} | ${round(idle, 1)} | ${isBase || idle === undefined || baseIdle === undefined ? '' : `${signed(idle - baseIdle, 1)} MB`} | ${round(median(p.idleServerRssMb), 1)} | ${round(p.peakRssMb, 1)} |`,
    )
  }
  return rows.join('\n')
}

export interface TargetCheck {
  target: string
  measured: string
  /** undefined: could not be measured in this run. */
  met: boolean | undefined
}

/** The issue's targets, each against this run's figures. */
export function checkTargets(result: BenchResult): TargetCheck[] {
  const baseline = result.processes.find((p) => p.label === 'baseline')
  const app = result.processes.find((p) => p.label === 'app')
  const checks: TargetCheck[] = []
  const baseIdle = median(baseline?.idleRssMb ?? [])
  const appIdle = median(app?.idleRssMb ?? [])
  if (baseIdle !== undefined && appIdle !== undefined) {
    const delta = appIdle - baseIdle
    checks.push({
      target: 'idle RSS ≤ baseline + 20 MB',
      measured: `${appIdle.toFixed(1)} MB vs ${baseIdle.toFixed(1)} MB (${signed(delta, 1)} MB)`,
      met: delta <= 20,
    })
  }
  const baseBoot = median(baseline?.bootMs ?? [])
  const appBoot = median(app?.bootMs ?? [])
  if (baseBoot !== undefined && appBoot !== undefined) {
    const delta = appBoot - baseBoot
    const cpu = [median(app?.bootCpuMs ?? []), median(baseline?.bootCpuMs ?? [])]
    const cpuText =
      cpu[0] === undefined || cpu[1] === undefined
        ? ''
        : `; CPU ${cpu[0].toFixed(0)} ms vs ${cpu[1].toFixed(0)} ms (${signed(cpu[0] - cpu[1])} ms)`
    checks.push({
      target: 'boot ≤ baseline + 150 ms',
      measured: `${appBoot.toFixed(0)} ms vs ${baseBoot.toFixed(0)} ms (${signed(delta)} ms)${cpuText}`,
      met: delta <= 150,
    })
  }
  const l1 = result.scenarios.find((s) => s.name === 'read-l1' && s.load)
  if (l1) {
    checks.push({
      target: 'L1-hit read ≥ 0.8× baseline req/s',
      measured: times(l1.throughputRatio),
      met: l1.throughputRatio === undefined ? undefined : l1.throughputRatio >= 0.8,
    })
    checks.push({
      target: 'L1-hit CPU/request ≤ 1.25× baseline',
      measured: times(l1.cpuRatio),
      met: l1.cpuRatio === undefined ? undefined : l1.cpuRatio <= 1.25,
    })
  }
  const standard = result.processes.filter((p) => p.label !== 'baseline' && p.memoryLimitMb === 512)
  if (standard.length > 0) {
    const peak = Math.max(...standard.map((p) => p.peakRssMb))
    checks.push({
      target: 'peak RSS ≤ 200 MB over the standard run (512 MB)',
      measured: `${peak.toFixed(1)} MB`,
      met: peak <= 200,
    })
  }
  const overload = result.scenarios.find((s) => s.name === 'overload' && s.load)
  if (overload?.load) {
    const o = overload.load
    const limitMb = result.processes.find((p) => p.label === overload.process)?.memoryLimitMb
    const s503 = o.statuses['503'] ?? 0
    const s500 = Object.entries(o.statuses)
      .filter(([code]) => code.startsWith('5') && code !== '503')
      .reduce((sum, [, count]) => sum + count, 0)
    const resets = o.errors.ECONNRESET ?? 0
    const otherErrors = Object.values(o.errors).reduce((a, b) => a + b, 0) - resets
    checks.push({
      target: 'overload: 503 + Retry-After, zero resets, zero 500s',
      measured: `${s503} × 503 (${o.status503WithoutRetryAfter} without Retry-After), ${resets} resets, ${s500} other 5xx, ${otherErrors} other errors`,
      met: s503 > 0 && o.status503WithoutRetryAfter === 0 && resets === 0 && s500 === 0,
    })
    if (limitMb !== undefined && overload.peakRssMb !== undefined) {
      checks.push({
        target: `overload: RSS never above the limit (${limitMb} MB)`,
        measured: `peak ${overload.peakRssMb.toFixed(1)} MB`,
        met: overload.peakRssMb < limitMb,
      })
    }
  }
  if (result.soak) {
    checks.push({
      target: `soak: RSS never above the limit (${result.soak.memoryLimitMb} MB)`,
      measured: `peak ${result.soak.peakRssMb.toFixed(1)} MB over ${result.soak.minutes} min, ${result.soak.shed503} × 503, leak guard ${result.soak.leakGuardFired ? 'fired' : 'did not fire'}`,
      met: !result.soak.crossedLimit,
    })
  }
  return checks
}

export function targetTable(checks: TargetCheck[]): string {
  const rows = ['| target | measured | met |', '|---|---|---|']
  for (const c of checks) {
    rows.push(
      `| ${c.target} | ${c.measured} | ${c.met === undefined ? '?' : c.met ? 'yes' : '**no**'} |`,
    )
  }
  return rows.join('\n')
}

export function markdownReport(result: BenchResult): string {
  const how = [
    ...new Set(
      result.scenarios
        .filter((s) => s.skipped === undefined)
        .map((s) => `- **${s.title}**: ${s.how}`),
    ),
  ]
  return [
    `Node ${result.node}, ${result.machine.cpus} × ${result.machine.model}; ${result.machine.pinning}; ${result.database}; load average ${result.machine.loadAverage[0].toFixed(2)} at the start, ${result.machine.loadAverage[1].toFixed(2)} at the end.`,
    `Command: \`${result.command}\`, ${result.startedAt}.`,
    '',
    processTable(result.processes),
    '',
    scenarioTable(result.scenarios),
    '',
    ...how,
    '',
    targetTable(checkTargets(result)),
    '',
  ].join('\n')
}

export const README_START = '<!-- section:bench -->'
export const README_END = '<!-- section:bench-end -->'

/** Replaces the text between the README's bench markers; throws if they are missing. */
export function replaceSection(readme: string, body: string): string {
  const start = readme.indexOf(README_START)
  const end = readme.indexOf(README_END)
  if (start === -1 || end === -1 || end < start) {
    throw new Error(`README has no ${README_START} ... ${README_END} markers`)
  }
  return `${readme.slice(0, start + README_START.length)}\n${body.trim()}\n${readme.slice(end)}`
}

/** The README `bench` section: how to run it, how it measures, and this run's figures. */
export function readmeSection(result: BenchResult, svgPath: string): string {
  return `## Benchmarks

\`npm run bench\` builds, then runs the production build through the bootstrap
(\`node dist/scripts/start.js\`, \`NODE_ENV=production\`) and a bare Fastify hello-world on the same
Node, each pinned to CPU 0 with \`taskset\`, while the load generator (autocannon, in its own
process) runs pinned to CPU 1. It creates its own database on the local Postgres (or PGlite with
\`--embedded\`), seeds it with realistic notes through \`POST /api/notes\`, and starts a fresh
process for each configuration a scenario needs (L1 off for the L2 read; no cache tier at all
for the uncached read and render; a small limit for overload). Ratios to the baseline, not
absolute numbers, are what carry from one machine to another.

\`\`\`sh
npm run bench                    # the full run (about 4 minutes); results in .data/bench/
npm run bench -- --quick         # a short smoke (CI runs it)
npm run bench -- --scenario read-l1,create --duration 20 --connections 20
npm run bench -- --soak 10       # 10 min of mixed load at MEMORY_LIMIT_MB=256; exit 1 if RSS crossed it
npm run bench -- --help          # every flag
\`\`\`

How each figure is measured: req/s and p50/p99 latency (2xx only) from autocannon, after an
unmeasured warm-up; CPU time per request is the server's user+sys time from \`/proc/<pid>/stat\`
over the measured window divided by the responses; boot is spawn to the first 200 on
\`/healthz\` (polled every 5 ms, database already migrated; median of several spawns); idle RSS is
read from \`/proc/<pid>/status\` 300 ms after the server logs \`ready (after post-start gc)\` (the
baseline runs one GC too); peak RSS is the highest of RSS sampled every 100 ms and the server's
\`VmHWM\` (worker threads included: they share the process). RSS is of the whole process tree, which
is what a container limit counts. Rate limiting is set out of reach (\`RATE_LIMIT_MAX\`), since one
address sends everything. Non-2xx responses and connection errors are counted per status/code;
\`x-cache\` values show which tier answered. The last column is how busy the server's CPU was
with anything but the server (other processes, interrupts) during the window, from \`/proc/stat\`:
on a shared machine it explains most of the run-to-run noise.

The latest full run (${result.startedAt.slice(0, 10)}; \`${result.command}\`):

${markdownReport(result)}
![RSS over the run against the memory limit and the shedding threshold](${svgPath})
`
}
