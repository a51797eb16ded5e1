import { BASELINES } from './baselines.js'
import { type BenchResult, type ProcessResult, referenceOf, type ScenarioResult } from './result.js'
import { median } from './stats.js'

/** Markdown from a BenchResult (pure). */

const round = (n: number | undefined, digits = 0) =>
  n === undefined ? '–' : n.toFixed(digits).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
const times = (n: number | undefined) => (n === undefined ? '–' : `${n.toFixed(2)}×`)
const signed = (n: number | undefined, digits = 0) =>
  n === undefined ? '–' : `${n >= 0 ? '+' : ''}${n.toFixed(digits)}`
const seconds = (ms: number | undefined) => (ms === undefined ? '–' : `${(ms / 1000).toFixed(2)} s`)
/** a ÷ b, or undefined. */
const over = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b

const REFERENCE = BASELINES.fastify.label
const FLOOR = BASELINES.http.label
const REPLAY = BASELINES.replay.label
const isBaselineLabel = (label: string) =>
  label === REFERENCE || label === FLOOR || label === REPLAY
const isBaseline = (p: ProcessResult) => isBaselineLabel(p.label)
export const reference = (result: Pick<BenchResult, 'processes'>) =>
  result.processes.find((p) => p.label === REFERENCE)

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
  const others = scenarios.some((s) => s.otherCpuShare !== undefined)
  const rows = [
    `| scenario | process | conns | req/s | × bare Fastify | p50 ms | p99 ms | × bare Fastify | CPU µs/req | × bare Fastify | non-2xx / errors | x-cache | peak RSS MB |${others ? ' server CPU busy with others |' : ''}`,
    `|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|--:|${others ? '--:|' : ''}`,
  ]
  for (const s of scenarios) {
    if (s.skipped !== undefined) {
      rows.push(
        `| ${s.title} | ${s.process} | | skipped: ${s.skipped} | | | | | | | | | |${others ? ' |' : ''}`,
      )
      continue
    }
    const busy = s.otherCpuShare === undefined ? '–' : `${Math.round(s.otherCpuShare * 100)}%`
    rows.push(
      `| ${s.title} | ${s.process} | ${s.connections ?? '–'} | ${round(s.load?.requestsPerSecond)} | ${times(s.throughputRatio)} | ${round(s.load?.latencyP50Ms, 1)} | ${round(s.load?.latencyP99Ms, 1)} | ${times(s.p99Ratio)} | ${round(s.cpuMicrosPerRequest)} | ${times(s.cpuRatio)} | ${statusSummary(s)} | ${cacheSummary(s)} | ${round(s.peakRssMb, 1)} |${others ? ` ${busy} |` : ''}`,
    )
  }
  return rows.join('\n')
}

export function processTable(processes: ProcessResult[]): string {
  const base = processes.find((p) => p.label === REFERENCE)
  const baseBoot = median(base?.bootMs ?? [])
  const baseIdle = median(base?.idleRssMb ?? [])
  const baseCpu = median(base?.bootCpuMs ?? [])
  const rows = [
    '| process | configuration | cold start: first 200 (median) | × bare Fastify | first cached read | × bare Fastify | boot CPU ms | × bare Fastify | idle RSS MB | vs bare Fastify | peak RSS MB | box peak MB / OOM kills |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ]
  for (const p of processes) {
    const boot = median(p.bootMs)
    const cold = median(p.coldReadMs)
    const idle = median(p.idleRssMb)
    const cpu = median(p.bootCpuMs)
    rows.push(
      `| ${p.label} | ${p.config} | ${seconds(boot)} (n=${p.bootMs.length}) | ${times(over(boot, baseBoot))} | ${seconds(cold)} | ${times(over(cold, baseBoot))} | ${round(cpu)} | ${times(over(cpu, baseCpu))} | ${round(idle, 1)} | ${p === base || idle === undefined || baseIdle === undefined ? '' : `${signed(idle - baseIdle, 1)} MB`} | ${round(p.peakRssMb, 1)} | ${p.box ? `${round(p.box.peakMb, 1)} / ${p.box.oomKills}` : '–'} |`,
    )
  }
  return rows.join('\n')
}

/**
 * The front page's table: the app beside both baselines, one figure per row, with the ratio
 * to bare Fastify.
 */
export function keyTable(result: BenchResult): string {
  const http = result.processes.find((p) => p.label === FLOOR)
  const fastify = reference(result)
  const app = result.processes.find((p) => p.label === 'app')
  const on = (process: ProcessResult | undefined, name: string) =>
    result.scenarios.find((s) => s.process === process?.label && s.name === name && s.load)
  const rows = [
    `| ${result.machine.box ? `in the box (${result.machine.box.cpus} CPU, ${result.machine.box.memoryMb} MB)` : 'no box'} | bare node:http | bare Fastify | app | app ÷ bare Fastify |`,
    '|---|--:|--:|--:|--:|',
  ]
  const row = (
    label: string,
    value: (p: ProcessResult | undefined) => number | undefined,
    show: (n: number | undefined) => string,
    ratio = true,
  ) => {
    const a = value(app)
    const f = value(fastify)
    rows.push(
      `| ${label} | ${show(value(http))} | ${show(f)} | ${show(a)} | ${ratio ? times(over(a, f)) : signed(a === undefined || f === undefined ? undefined : a - f, 1)} |`,
    )
  }
  row('cold start: spawn → first 200 on /healthz', (p) => median(p?.bootMs ?? []), seconds)
  const cold = median(app?.coldReadMs ?? [])
  if (cold !== undefined) {
    rows.push(
      `| cold start: spawn → first cached read | | | ${seconds(cold)} | ${times(over(cold, median(fastify?.bootMs ?? [])))} |`,
    )
  }
  row(
    'CPU to the first 200, ms',
    (p) => median(p?.bootCpuMs ?? []),
    (n) => round(n),
  )
  row(
    'idle RSS, MB (± MB)',
    (p) => median(p?.idleRssMb ?? []),
    (n) => round(n, 1),
    false,
  )
  row(
    '/healthz req/s',
    (p) => on(p, 'healthz')?.load?.requestsPerSecond,
    (n) => round(n),
  )
  row(
    '/healthz CPU µs/request',
    (p) => on(p, 'healthz')?.cpuMicrosPerRequest,
    (n) => round(n),
  )
  row(
    '/healthz p99 ms',
    (p) => on(p, 'healthz')?.load?.latencyP99Ms,
    (n) => round(n),
  )
  const first = on(fastify, 'healthz')
  const firstReference = first && referenceOf(first)
  for (const s of result.scenarios) {
    if (s.process !== 'app' || s.name === 'healthz' || !s.load) continue
    // The /healthz window this scenario's ratios divide by: measured beside it, else the first.
    const ref = s.reference ?? firstReference
    const healthzLabel = s.reference ? '(/healthz beside it)' : '(/healthz)'
    rows.push(
      `| ${s.title}: req/s | | ${round(ref?.rps)} ${healthzLabel} | ${round(s.load.requestsPerSecond)} | ${times(s.throughputRatio)} |`,
    )
    rows.push(
      `| ${s.title}: CPU µs/request | | ${round(ref?.cpuUs)} ${healthzLabel} | ${round(s.cpuMicrosPerRequest)} | ${times(s.cpuRatio)} |`,
    )
    if (s.warmup && ref?.warmupRps !== undefined) {
      rows.push(
        `| ${s.title}: req/s while warming up (${round(s.warmup.seconds)} s) | | ${round(ref.warmupRps)} ${healthzLabel} | ${round(s.warmup.requestsPerSecond)} | ${times(over(s.warmup.requestsPerSecond, ref.warmupRps))} |`,
      )
    }
    const same = result.scenarios.find((r) => r.process === REPLAY && r.name === s.name && r.load)
    if (!same?.load) continue
    rows.push(
      `| ${s.title}: req/s | | ${round(same.load.requestsPerSecond)} (same responses) | ${round(s.load.requestsPerSecond)} | ${times(over(s.load.requestsPerSecond, same.load.requestsPerSecond))} |`,
    )
    rows.push(
      `| ${s.title}: CPU µs/request | | ${round(same.cpuMicrosPerRequest)} (same responses) | ${round(s.cpuMicrosPerRequest)} | ${times(over(s.cpuMicrosPerRequest, same.cpuMicrosPerRequest))} |`,
    )
  }
  const peak = Math.max(
    0,
    ...result.processes.filter((p) => !isBaseline(p)).map((p) => p.peakRssMb),
  )
  rows.push(
    `| peak RSS of any app process, MB | ${round(http?.peakRssMb, 1)} | ${round(fastify?.peakRssMb, 1)} | ${round(peak, 1)} | |`,
  )
  return rows.join('\n')
}

export interface TargetCheck {
  target: string
  measured: string
  /** undefined: could not be measured in this run. */
  met: boolean | undefined
}

/** The targets: the app's against bare Fastify's, and each scenario's own. */
export function checkTargets(result: BenchResult): TargetCheck[] {
  const base = reference(result)
  const app = result.processes.find((p) => p.label === 'app')
  const checks: TargetCheck[] = []
  const baseBoot = median(base?.bootMs ?? [])
  const appBoot = median(app?.bootMs ?? [])
  if (baseBoot !== undefined && appBoot !== undefined) {
    checks.push({
      target: 'cold start ≤ 1.0× bare Fastify',
      measured: `${seconds(appBoot)} vs ${seconds(baseBoot)} (${times(appBoot / baseBoot)})`,
      met: appBoot <= baseBoot,
    })
  }
  const baseIdle = median(base?.idleRssMb ?? [])
  const appIdle = median(app?.idleRssMb ?? [])
  if (baseIdle !== undefined && appIdle !== undefined) {
    const delta = appIdle - baseIdle
    checks.push({
      target: 'idle RSS ≤ bare Fastify + 10 MB',
      measured: `${appIdle.toFixed(1)} MB vs ${baseIdle.toFixed(1)} MB (${signed(delta, 1)} MB)`,
      met: delta <= 10,
    })
  }
  for (const p of result.processes) {
    if (p.memoryLimitMb === undefined || isBaseline(p)) continue
    const oom = p.box?.oomKills ?? 0
    checks.push({
      target: `${p.label}: under its limit (${p.memoryLimitMb} MB), no OOM kill`,
      measured: `peak RSS ${p.peakRssMb.toFixed(1)} MB${p.box ? `, box peak ${p.box.peakMb.toFixed(1)} MB, ${oom} OOM kills` : ''}`,
      met: p.peakRssMb < p.memoryLimitMb && oom === 0,
    })
  }
  for (const s of result.scenarios) {
    const targets = result.targets?.[s.name]
    if (!targets || !s.load || isBaselineLabel(s.process)) continue
    const label = `${s.title} (${s.process})`
    if (targets.minThroughputRatio !== undefined) {
      checks.push({
        target: `${label}: req/s ≥ ${targets.minThroughputRatio}× bare Fastify`,
        measured: times(s.throughputRatio),
        met:
          s.throughputRatio === undefined
            ? undefined
            : s.throughputRatio >= targets.minThroughputRatio,
      })
    }
    if (targets.maxCpuRatio !== undefined) {
      checks.push({
        target: `${label}: CPU/request ≤ ${targets.maxCpuRatio}× bare Fastify`,
        measured: times(s.cpuRatio),
        met: s.cpuRatio === undefined ? undefined : s.cpuRatio <= targets.maxCpuRatio,
      })
    }
    if (targets.shedsLoad) {
      const o = s.load
      const s503 = o.statuses['503'] ?? 0
      const s5xx = Object.entries(o.statuses)
        .filter(([code]) => code.startsWith('5') && code !== '503')
        .reduce((sum, [, count]) => sum + count, 0)
      const resets = o.errors.ECONNRESET ?? 0
      const otherErrors = Object.values(o.errors).reduce((a, b) => a + b, 0) - resets
      checks.push({
        target: `${label}: 503 + Retry-After, zero resets, zero 500s`,
        measured: `${s503} × 503 (${o.status503WithoutRetryAfter} without Retry-After), ${resets} resets, ${s5xx} other 5xx, ${otherErrors} other errors`,
        met: s503 > 0 && o.status503WithoutRetryAfter === 0 && resets === 0 && s5xx === 0,
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
  const plans = [...new Set(result.processes.flatMap((p) => (p.plan ? [p.plan] : [])))]
  return [
    `Node ${result.node}, ${result.machine.cpus} × ${result.machine.model}; ${result.machine.pinning}; ${result.database}; load average ${result.machine.loadAverage[0].toFixed(2)} at the start, ${result.machine.loadAverage[1].toFixed(2)} at the end.`,
    `Command: \`${result.command}\`, ${result.startedAt}.${result.warmupCpuS === undefined ? '' : ` Each scenario is measured after ${result.warmupCpuS} s of the server's CPU under load${result.machine.box ? ` (${round(result.warmupCpuS / result.machine.box.cpus)} s in its box)` : ''}.`}${plans.length ? ` The app's memory plan saw: ${plans.join('; ')}.` : ''}`,
    '',
    keyTable(result),
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
