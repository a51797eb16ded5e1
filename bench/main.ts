/** One bench invocation, after its arguments were validated: see bench/cli.ts. */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { boxSupport } from '../scripts/box.js'
import type { BenchOptions } from './args.js'
import { type BenchDatabase, createDatabase, embeddedDatabase } from './database.js'
import { tcpReachable } from './http.js'
import { canPin } from './proc.js'
import { Progress } from './progress.js'
import { checkTargets, markdownReport } from './report.js'
import type { BenchResult } from './result.js'
import { standardRun } from './run.js'
import { Sampler } from './sampler.js'
import { SCENARIOS } from './scenarios.js'
import { type Placement, Session } from './session.js'
import { soakRun } from './soak.js'
import { renderRssSvg } from './svg.js'

/** The repository root, from dist/bench. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

export async function runBench(options: BenchOptions): Promise<number> {
  const progress = new Progress()
  for (const file of ['dist/app/start.js', 'dist/bench/load-worker.js']) {
    if (!existsSync(join(ROOT, file))) {
      progress.log(`${file} is missing: run \`npm run build\` (npm run bench does it first)`)
      return 2
    }
  }

  const cpuList = cpus()
  const placement = place(options, cpuList.length, progress)
  progress.log(`Node ${process.versions.node}; ${placement.describe}`)

  let db: BenchDatabase
  if (options.embedded) {
    db = embeddedDatabase(resolve(ROOT, options.outDir))
  } else {
    try {
      db = await createDatabase(options.databaseUrl)
    } catch (error) {
      progress.log(
        `cannot create the bench database via ${options.databaseUrl}: ${(error as Error).message}\n` +
          '  start Postgres, pass --database-url, or use --embedded',
      )
      return 2
    }
  }
  progress.log(db.describe)
  let redisUrl = options.redisUrl
  if (redisUrl && !(await tcpReachable(redisUrl, 6379))) {
    progress.log(
      `Redis not reachable at ${redisUrl}: running without it (the L2 scenario is skipped)`,
    )
    redisUrl = undefined
  }

  const sampler = new Sampler()
  const session = new Session(options, ROOT, placement, sampler, progress, db, redisUrl)
  const startedAt = new Date().toISOString()
  const loadAtStart = loadavg()[0] ?? 0
  let soak: BenchResult['soak']
  let failure: unknown
  try {
    if (options.soakMinutes !== undefined) soak = await soakRun(session, options.soakMinutes)
    else await standardRun(session)
  } catch (error) {
    failure = error
  } finally {
    sampler.stop()
    if (!options.keepDatabase) await db.drop().catch(() => {})
  }
  if (failure) {
    progress.log(`bench failed: ${(failure as Error).stack ?? failure}`)
    if (session.processes.length === 0) return 1
  }

  const result: BenchResult = {
    kind: soak ? 'soak' : 'bench',
    startedAt,
    finishedAt: new Date().toISOString(),
    node: process.versions.node,
    machine: {
      cpus: cpuList.length,
      model: cpuList[0]?.model.trim() ?? 'unknown CPU',
      pinned: placement.server !== undefined,
      pinning: placement.describe,
      ...(placement.box ? { box: placement.box } : {}),
      loadAverage: [loadAtStart, loadavg()[0] ?? 0],
    },
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    database: options.embedded
      ? 'embedded PGlite'
      : `local Postgres${redisUrl ? ' and Redis' : ', no Redis'}`,
    warmupCpuS: options.warmupCpuS,
    processes: session.processes,
    scenarios: session.scenarios,
    targets: Object.fromEntries(
      SCENARIOS.flatMap((s) => (s.targets ? [[s.name, s.targets] as const] : [])),
    ),
    ...(soak ? { soak } : {}),
    timeline: sampler.timeline,
  }
  const outDir = resolve(ROOT, options.outDir)
  await mkdir(outDir, { recursive: true })
  const base = join(outDir, `${result.kind}-${startedAt.replace(/[:.]/g, '-')}`)
  const markdown = markdownReport(result)
  const title = `${result.kind}: RSS over the run (Node ${result.node}${placement.box ? `, box ${placement.box.cpus} CPU / ${placement.box.memoryMb} MB` : ''})`
  await writeFile(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`)
  await writeFile(`${base}.md`, markdown)
  await writeFile(`${base}.svg`, renderRssSvg(result.timeline, title))
  process.stdout.write(`\n${markdown}\n`)
  progress.log(`wrote ${relative(ROOT, base)}.{json,md,svg}`)

  if (failure) return 1
  if (soak) {
    progress.log(
      `soak: peak RSS ${soak.peakRssMb} MB of ${soak.memoryLimitMb} MB (${soak.crossedLimit ? 'CROSSED the limit' : 'stayed under'}), ${soak.shed503} × 503, leak guard ${soak.leakGuardFired ? 'fired' : 'did not fire'}${soak.exit ? `; ${soak.exit}` : ''}`,
    )
    return soak.crossedLimit ? 1 : 0
  }
  const missed = checkTargets(result).filter((c) => c.met === false)
  progress.log(
    missed.length === 0
      ? 'targets: all met that could be measured'
      : `targets missed (reported, not asserted): ${missed.map((c) => c.target).join('; ')}`,
  )
  return 0
}

/**
 * Where the servers run: each in its own box where this machine can make cgroups; otherwise (or
 * with --no-box) pinned to CPU 0 with the load generator on CPU 1, as far as that is possible.
 */
function place(
  options: BenchOptions,
  cpuCount: number,
  progress: Progress,
): Placement & { describe: string } {
  if (options.box) {
    const support = boxSupport()
    if (support.ok) {
      const box = { cgroup: support.version, cpus: options.cpus, memoryMb: options.memoryMb }
      return {
        box,
        server: undefined,
        load: undefined,
        describe: `each server in its own cgroup ${support.version} box (${options.cpus} CPU, ${options.memoryMb} MB), the load generator outside`,
      }
    }
    progress.log(`no free-tier box: ${support.reason}; running pinned instead`)
  }
  const pin = canPin(cpuCount)
  if (!pin.ok)
    return {
      box: undefined,
      server: undefined,
      load: undefined,
      describe: `no box, not pinned: ${pin.reason}`,
    }
  // The harness itself stays off the server's CPU too.
  execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' })
  return {
    box: undefined,
    server: '0',
    load: '1',
    describe: `no box${options.box ? '' : ' (--no-box)'}: server on CPU 0, load generator and harness on CPU 1 (taskset)`,
  }
}
