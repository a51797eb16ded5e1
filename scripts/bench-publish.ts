/**
 * The template's own tooling (not part of an app made from it): publishes a full bench run as the
 * template's figures: the key table and the RSS picture on the README's front page, the whole
 * report as docs/bench-results.md, the picture as docs/bench-rss.svg. These files, this script
 * and its test are template-only (packages/create-freetier/lib/template.js leaves them out).
 *
 *   npm run bench && node dist/scripts/bench-publish.js .data/bench/bench-<time>.json
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { keyTable, markdownReport } from '../bench/report.js'
import type { BenchResult } from '../bench/result.js'
import { renderRssSvg } from '../bench/svg.js'

/** Replaces the text between `<!-- section:NAME -->` and `<!-- section:NAME-end -->`. */
export function replaceSection(text: string, name: string, body: string): string {
  const start = `<!-- section:${name} -->`
  const end = `<!-- section:${name}-end -->`
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  if (from === -1 || to === -1 || to < from) throw new Error(`no ${start} ... ${end} markers`)
  return `${text.slice(0, from + start.length)}\n${body.trim()}\n${text.slice(to)}`
}

export const SVG = 'docs/bench-rss.svg'

/** The README's summary: the key table and the picture, linking to the full report. */
export function summary(result: BenchResult): string {
  return `${keyTable(result)}

Measured ${result.startedAt.slice(0, 10)} on Node ${result.node}, ${result.machine.cpus} CPUs at load average
${result.machine.loadAverage[0].toFixed(1)}-${result.machine.loadAverage[1].toFixed(1)} (\`${result.command}\`): on a busy machine the baselines and
the app share it unevenly, so repeat a run before reading much into one ratio. Every
scenario, the process table and the targets: [docs/bench-results.md](docs/bench-results.md); what
each figure means: [docs/benchmarks.md](docs/benchmarks.md).

![RSS over the run against the memory limit](${SVG})
`
}

export const RESULTS = 'docs/bench-results.md'

/** docs/bench-results.md: the whole report. */
export function results(result: BenchResult): string {
  return `# The template's latest benchmark run

Published from \`${result.command}\` with \`scripts/bench-publish.ts\`; what each figure means and
how to run it: [benchmarks.md](benchmarks.md).

${markdownReport(result)}
![RSS over the run against the memory limit](bench-rss.svg)
`
}

function main(argv: string[]): number {
  const file = argv[0]
  if (!file || !existsSync(file)) {
    process.stderr.write('usage: node dist/scripts/bench-publish.js <bench result .json>\n')
    return 2
  }
  const result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult
  if (result.kind !== 'bench') {
    process.stderr.write(`${file} is a ${result.kind} result; publish a full bench run\n`)
    return 2
  }
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
  const title = `RSS over the run (Node ${result.node}${result.machine.box ? `, box ${result.machine.box.cpus} CPU / ${result.machine.box.memoryMb} MB` : ''})`
  writeFileSync(join(root, SVG), renderRssSvg(result.timeline, title))
  writeFileSync(join(root, RESULTS), results(result))
  const readme = join(root, 'README.md')
  writeFileSync(
    readme,
    replaceSection(readFileSync(readme, 'utf8'), 'bench-summary', summary(result)),
  )
  // The project formats markdown with Biome (tables padded); keep `npm run lint` clean.
  const biome = join(root, 'node_modules', '.bin', 'biome')
  if (existsSync(biome)) {
    execFileSync(biome, ['format', '--write', 'README.md', RESULTS], {
      cwd: root,
      stdio: 'ignore',
    })
  }
  process.stdout.write(`published ${file} into README.md, ${RESULTS} and ${SVG}\n`)
  return 0
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main(process.argv.slice(2))
}
