/**
 * `npm start` runs this first: it runs `npm run build` only when the build is not current, that
 * is when an input changed since the last build recorded here, or an output is missing or
 * changed, or Node's version is another. Plain JavaScript: it runs before anything is compiled.
 *
 * Generic over what the build is: the inputs are every file of the project except those no
 * build reads (dependencies, which the lockfile stands for; outputs; docs; tests; local data),
 * the outputs every file under dist/ after the build. Contents are hashed, not dates compared,
 * so a checkout or a touch that changes nothing does not rebuild.
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'

const ROOT = process.cwd()
const OUTPUTS = 'dist'
const STATE = join(OUTPUTS, '.build-state.json')
/** Directory names skipped at any depth, and root entries that are not build inputs. */
const SKIPPED_DIRS = new Set(['node_modules', OUTPUTS, 'test', 'coverage', '.git', '.tap', '.data'])
const NOT_INPUTS = [
  /^(docs|packages|\.github|\.ci)\//,
  /^\.git$/,
  /^\.env/,
  /\.md$/,
  /\.log$/,
  /\.tgz$/,
]

/** path (relative, '/'-separated) -> sha256 of the contents, for every file under `dir`. */
function hashTree(dir, skip = () => false) {
  const hashes = {}
  const walk = (absolute) => {
    for (const entry of readdirSync(absolute, { withFileTypes: true })) {
      const path = join(absolute, entry.name)
      const name = relative(ROOT, path).split(sep).join('/')
      if (entry.isDirectory()) {
        if (!skip(name, entry.name, true)) walk(path)
      } else if (entry.isFile() && !skip(name, entry.name, false)) {
        hashes[name] = createHash('sha256').update(readFileSync(path)).digest('hex')
      }
    }
  }
  walk(dir)
  return hashes
}

const inputs = () =>
  hashTree(
    ROOT,
    (name, base, isDir) =>
      (isDir && SKIPPED_DIRS.has(base)) || NOT_INPUTS.some((pattern) => pattern.test(name)),
  )
const outputs = () => {
  try {
    // V8's compile cache (dist/app/compile-cache) gains entries at run time: not a change.
    return hashTree(join(ROOT, OUTPUTS), (name, base) => name === STATE || base === 'compile-cache')
  } catch {
    return {}
  }
}

/** The first difference between two hash maps, in words, or undefined when they are equal. */
function difference(before, after) {
  for (const [name, hash] of Object.entries(after)) {
    if (before[name] === undefined) return `${name} is new`
    if (before[name] !== hash) return `${name} changed`
  }
  for (const name of Object.keys(before)) if (after[name] === undefined) return `${name} is gone`
  return undefined
}

function staleReason(state) {
  if (!state) return 'no build recorded'
  if (state.node !== process.version)
    return `Node ${state.node} built it, this is ${process.version}`
  return difference(state.inputs, inputs()) ?? difference(state.outputs, outputs())
}

/** The package manager that runs this script runs the build (npm, pnpm, yarn or bun). */
function runBuild() {
  const runner = process.env.npm_execpath
  const [file, args] = runner
    ? /\.[cm]?js$/.test(runner)
      ? [process.execPath, [runner, 'run', 'build']]
      : [runner, ['run', 'build']]
    : ['npm', ['run', 'build']]
  return spawnSync(file, args, { stdio: 'inherit', shell: process.platform === 'win32' })
}

let state
try {
  state = JSON.parse(readFileSync(STATE, 'utf8'))
} catch {
  state = undefined
}
const reason = staleReason(state)
if (reason === undefined) {
  process.stdout.write('freetier: build is current\n')
} else {
  process.stdout.write(`freetier: building (${reason})\n`)
  const build = runBuild()
  if (build.status !== 0) process.exit(build.status ?? 1)
  mkdirSync(OUTPUTS, { recursive: true })
  const recorded = { node: process.version, inputs: inputs(), outputs: outputs() }
  writeFileSync(STATE, `${JSON.stringify(recorded)}\n`)
}
