/**
 * `npm run test:one -- test/db.test.ts [more]`: runs the given test files (their .ts sources or
 * the compiled .js in dist) without coverage, so a single file never fails on the suite's
 * coverage thresholds. Any argument starting with `-` goes to tap as is (e.g. `--grep=pool`).
 */
import { spawnSync } from 'node:child_process'

const toCompiled = (arg: string) =>
  arg.startsWith('-') || arg.startsWith('dist/')
    ? arg
    : `dist/${arg.replace(/^\.\//, '').replace(/\.ts$/, '.js')}`

const args = process.argv.slice(2)
if (!args.some((arg) => !arg.startsWith('-'))) {
  process.stderr.write('usage: npm run test:one -- test/<name>.test.ts [more files] [tap flags]\n')
  process.exit(2)
}
const tap = spawnSync('tap', ['--disable-coverage', ...args.map(toCompiled)], { stdio: 'inherit' })
process.exit(tap.status ?? 1)
