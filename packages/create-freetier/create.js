#!/usr/bin/env node
// @ts-check (test/create.test.ts type-checks this file with tsc; it is not compiled)
/**
 * create-freetier: `npm create freetier@latest [dir]` scaffolds a new app from this package's
 * own files. It runs straight from the published tarball, so it is plain JavaScript with no
 * build step and no dependencies beyond Node itself.
 *
 * Everything is validated before the first write; the app is assembled in a staging directory
 * beside the target and moved into place at the end, so an error leaves nothing behind.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { builtinModules } from 'node:module'
import path from 'node:path'
import { createInterface } from 'node:readline/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const SELF = fileURLToPath(import.meta.url)
/** The scaffolder's own package (its version). */
const PACKAGE = path.dirname(SELF)
/** The template: the repository's root, the app (the pack step will bundle it). */
const SOURCE = path.resolve(PACKAGE, '..', '..')
/** What of the repository is the app (gitignore-style patterns, the last match wins). */
const TEMPLATE_FILES = [
  '**',
  '!dist/',
  '!.data/',
  '!.tap/',
  '!coverage/',
  '!.ci/',
  '!packages/',
  '!.env',
  '!.env.*',
  '.env.example',
  '!*.tgz',
  '!*.log',
]
const PACKAGE_MANAGERS = ['npm', 'pnpm', 'yarn', 'bun']
const DEFAULT_DIR = 'my-freetier-app'
/** Never part of an app, whatever `files` says (npm never packs these either). */
const NEVER = new Set(['.git', 'node_modules', 'package-lock.json', '.npmrc'])
/** package.json fields that describe the published scaffolder, not the app. */
const PACKAGE_FIELDS_DROPPED = [
  'description',
  'keywords',
  'homepage',
  'bugs',
  'repository',
  'license',
  'author',
  'contributors',
  'funding',
  'bin',
  'files',
  'man',
  'directories',
  'publishConfig',
]
const PUBLISH_SCRIPTS = [
  'prepack',
  'postpack',
  'prepublish',
  'prepublishOnly',
  'publish',
  'postpublish',
]
/**
 * Used only if the package arrived without its .gitignore (npm renames it to .npmignore on
 * install; some clients may drop it). The repository's .gitignore is the real list.
 */
const FALLBACK_GITIGNORE =
  'node_modules/\ndist/\n.data/\n.tap/\ncoverage/\n.env\n.env.*\n!.env.example\n'

const HELP = `Usage: npm create freetier@latest [directory] [-- options]
       npx create-freetier [directory] [options]

Creates a freetier app (Fastify, Postgres, Redis, tuned for Render's free tier) in <directory>.
The directory's name becomes the app's package name. On a terminal it asks for what the options
do not say; with --yes, or without a terminal, it takes the defaults.

Options:
  -y, --yes          ask nothing: directory ${DEFAULT_DIR}, Redis, install and git unless
                     switched off below
      --no-redis     leave out the Key Value (Redis) service from render.yaml and
                     REDIS_URL from .env.example (the app runs without Redis)
      --no-install   do not install dependencies
      --no-git       do not create a git repository with a first commit
      --pm <name>    package manager: npm, pnpm, yarn or bun (default: the one running
                     this command, else npm)
      --overwrite    empty a non-empty directory first (a .git inside it is kept)
  -h, --help         show this help
  -v, --version      print the version
`

/** An error the user can fix: printed without a stack, exit code 1. */
class UsageError extends Error {}

/** @param {string} message */
function fail(message) {
  throw new UsageError(message)
}

// ---------------------------------------------------------------------------------------------
// Arguments

/**
 * @typedef {object} Options
 * @property {string | undefined} dir
 * @property {boolean} yes
 * @property {boolean | undefined} redis
 * @property {boolean | undefined} install
 * @property {boolean | undefined} git
 * @property {string} pm
 * @property {boolean} overwrite
 * @property {boolean} help
 * @property {boolean} version
 */

/**
 * @param {string[]} argv
 * @param {NodeJS.ProcessEnv} env
 * @returns {Options}
 */
export function parseOptions(argv, env) {
  /** @type {ReturnType<typeof parseArgs>} */
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        yes: { type: 'boolean', short: 'y' },
        'no-redis': { type: 'boolean' },
        'no-install': { type: 'boolean' },
        'no-git': { type: 'boolean' },
        pm: { type: 'string' },
        overwrite: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    })
  } catch (error) {
    const { code, message } = /** @type {{ code?: string, message: string }} */ (error)
    const option = /'([^']+)'/.exec(message)?.[1]
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') fail(`unknown option ${option} (see --help)`)
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') fail(`${option} needs a value (see --help)`)
    fail(`${message} (see --help)`)
    throw error // unreachable: fail() throws
  }
  const { values, positionals } = parsed
  if (positionals.length > 1) fail(`expected one directory, got ${positionals.join(' ')}`)
  const pm = /** @type {string | undefined} */ (values.pm) ?? detectPackageManager(env)
  if (!PACKAGE_MANAGERS.includes(pm)) {
    fail(`--pm must be one of ${PACKAGE_MANAGERS.join(', ')}; got "${pm}"`)
  }
  /** @param {string} name */
  const off = (name) => (values[`no-${name}`] ? false : undefined)
  return {
    dir: positionals[0],
    yes: values.yes === true,
    redis: off('redis'),
    install: off('install'),
    git: off('git'),
    pm,
    overwrite: values.overwrite === true,
    help: values.help === true,
    version: values.version === true,
  }
}

/**
 * The package manager running us, from the user agent it sets (`pnpm/9.1.0 npm/? node/v20...`).
 * @param {NodeJS.ProcessEnv} env
 */
export function detectPackageManager(env) {
  const name = /^([a-z]+)\//.exec(env.npm_config_user_agent ?? '')?.[1]
  return name && PACKAGE_MANAGERS.includes(name) ? name : 'npm'
}

// ---------------------------------------------------------------------------------------------
// Names

const BLOCKED_NAMES = ['node_modules', 'favicon.ico']

/**
 * Why `name` cannot be a new npm package's name (the rules of validate-npm-package-name 7,
 * which npm applies). Empty when it can.
 * @param {string} name
 * @returns {string[]}
 */
export function nameProblems(name) {
  const problems = []
  if (name.length === 0) problems.push('it is empty')
  if (name.startsWith('.')) problems.push('it starts with a period')
  if (name.startsWith('_')) problems.push('it starts with an underscore')
  if (name.trim() !== name) problems.push('it has leading or trailing spaces')
  if (BLOCKED_NAMES.includes(name.toLowerCase())) problems.push(`"${name}" is a reserved name`)
  if (builtinModules.includes(name.toLowerCase())) {
    problems.push(`"${name}" is the name of a Node core module`)
  }
  if (name.length > 214) problems.push('it is longer than 214 characters')
  if (name.toLowerCase() !== name) problems.push('it contains capital letters')
  const scoped = /^@([^/]+)\/([^/]+)$/.exec(name)
  const bare = scoped ? scoped[2] : name
  if (/[~'!()*]/.test(bare ?? '')) problems.push(`it contains one of the characters ~'!()*`)
  const parts = scoped ? [scoped[1], scoped[2]] : [name]
  if (parts.some((part) => encodeURIComponent(part ?? '') !== part)) {
    problems.push('it contains characters that are not URL-friendly (spaces, slashes, ...)')
  }
  return problems
}

/**
 * A valid name close to `name`: lower case, runs of other characters turned into one dash.
 * @param {string} name
 */
export function suggestName(name) {
  let suggestion = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[._-]+/, '')
    .replace(/-+$/, '')
    .slice(0, 214)
  if (suggestion === '') suggestion = DEFAULT_DIR
  if (nameProblems(suggestion).length > 0) suggestion = `${suggestion}-app`
  return suggestion
}

/**
 * The directory and package name for what the user typed: a path whose last part is the name,
 * or a scoped name `@scope/app` (created in ./app).
 * @param {string} input
 * @param {string} cwd
 */
export function resolveTarget(input, cwd) {
  const scoped = /^@[^/]+\/([^/]+)$/.exec(input)
  const dir = path.resolve(cwd, scoped ? (scoped[1] ?? input) : input)
  return { dir, name: scoped ? input : path.basename(dir) }
}

/**
 * @param {string} name
 * @returns {string | undefined} what is wrong and how to fix it
 */
function explainName(name) {
  const problems = nameProblems(name)
  if (problems.length === 0) return undefined
  return `"${name}" cannot be an npm package name: ${problems.join('; ')}.\n  Try "${suggestName(name)}" instead (the directory's name becomes the package name).`
}

// ---------------------------------------------------------------------------------------------
// The target directory

/**
 * `empty` also covers a directory that holds only .git.
 * @param {string} dir
 * @returns {'missing' | 'empty' | 'not-empty' | 'not-a-directory'}
 */
export function targetState(dir) {
  let stat
  try {
    stat = fs.statSync(dir)
  } catch {
    return 'missing'
  }
  if (!stat.isDirectory()) return 'not-a-directory'
  return fs.readdirSync(dir).some((entry) => entry !== '.git') ? 'not-empty' : 'empty'
}

/**
 * The closest directory that exists at or above `dir` (where the staging directory goes).
 * @param {string} dir
 */
function existingAncestor(dir) {
  let current = dir
  while (!fs.existsSync(current)) current = path.dirname(current)
  return current
}

// ---------------------------------------------------------------------------------------------
// The template: this package's files, chosen by the rules in its package.json `files`

/**
 * A `files` / gitignore-style pattern as a test on a path relative to the package root.
 * Patterns without a slash match an entry's name at any depth; a trailing slash matches
 * directories only; `*` stays within one path segment, `**` crosses them.
 * @param {string} raw
 */
export function compilePattern(raw) {
  const negated = raw.startsWith('!')
  let glob = negated ? raw.slice(1) : raw
  glob = glob.replace(/^\.?\//, '')
  const dirOnly = glob.endsWith('/')
  if (dirOnly) glob = glob.slice(0, -1)
  const anchored = glob.includes('/')
  const source = glob
    .split(/(\*\*|\*|\?)/)
    .map((part) => {
      if (part === '**') return '.*'
      if (part === '*') return '[^/]*'
      if (part === '?') return '[^/]'
      return part.replace(/[.+^${}()|[\]\\]/g, '\\$&')
    })
    .join('')
  const regex = new RegExp(`^${source}$`)
  return {
    negated,
    /** @param {string} rel @param {boolean} isDir */
    matches: (rel, isDir) =>
      (!dirOnly || isDir) && regex.test(anchored ? rel : (rel.split('/').pop() ?? rel)),
  }
}

/**
 * Every file of the template, as paths relative to `root`: what `files` selects (the last
 * matching pattern wins; an entry no pattern matches follows its directory), minus what no app
 * needs (VCS, dependencies, the scaffolder itself).
 * @param {string} root
 * @param {string[]} files the package.json `files` patterns
 * @param {string[]} scaffolder paths that belong to the scaffolder, not the app
 * @returns {string[]}
 */
export function templateFiles(root, files, scaffolder) {
  const patterns = files.map(compilePattern)
  const skip = new Set(scaffolder)
  /** @type {string[]} */
  const found = []
  /** @param {string} rel @param {boolean} parentIncluded */
  const walk = (rel, parentIncluded) => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name
      const isDir = entry.isDirectory()
      if (NEVER.has(entry.name) || skip.has(child) || !(isDir || entry.isFile())) continue
      /** @type {boolean | undefined} */
      let decided
      for (const pattern of patterns) {
        if (pattern.matches(child, isDir)) decided = !pattern.negated
      }
      // An excluded directory is not entered (as in npm and git); an unmatched entry follows
      // its directory.
      if (isDir && decided !== false) walk(child, decided ?? parentIncluded)
      else if (!isDir && (decided ?? parentIncluded)) found.push(child)
    }
  }
  walk('', false)
  return found.sort()
}

// ---------------------------------------------------------------------------------------------
// Rewrites

/**
 * The app's package.json: its own name, version 0.1.0, private, without the scaffolder's
 * publish fields and without scripts that refer to the scaffolder or run on publish.
 * @param {Record<string, unknown>} pkg
 * @param {string} name
 * @param {string[]} scaffolder
 */
export function appPackageJson(pkg, name, scaffolder) {
  /** @type {Record<string, unknown>} */
  const app = { name, version: '0.1.0', private: true }
  for (const [key, value] of Object.entries(pkg)) {
    if (key in app || PACKAGE_FIELDS_DROPPED.includes(key)) continue
    app[key] = value
  }
  const scripts = /** @type {Record<string, string> | undefined} */ (pkg.scripts)
  if (scripts) {
    const bin = pkg.name === undefined ? [] : [String(pkg.name)]
    app.scripts = Object.fromEntries(
      Object.entries(scripts).filter(
        ([script, command]) =>
          !PUBLISH_SCRIPTS.includes(script) &&
          ![...scaffolder, ...bin].some((file) => command.includes(file)),
      ),
    )
  }
  return app
}

/**
 * Removes the YAML list items (with the comment lines just above them) for which `drop` is true.
 * `drop` sees the item's own top-level lines, e.g. `type: keyvalue` for a service, not lines
 * nested deeper, so a web service that merely refers to a Key Value stays.
 * @param {string} yaml
 * @param {(ownLines: string[]) => boolean} drop
 */
export function removeYamlItems(yaml, drop) {
  const lines = yaml.split('\n')
  /** @param {string} line */
  const indent = (line) => line.length - line.trimStart().length
  const out = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    const item = /^(\s*)- /.exec(line)
    if (!item) {
      out.push(line)
      continue
    }
    const dash = item[1]?.length ?? 0
    let end = i + 1
    while (end < lines.length) {
      const next = lines[end] ?? ''
      if (next.trim() !== '' && indent(next) <= dash) break
      end++
    }
    while (end > i + 1 && (lines[end - 1] ?? '').trim() === '') end-- // keep blank lines after it
    const block = lines.slice(i, end)
    const own = block
      .map((l, n) => (n === 0 ? l.replace(/^(\s*)- /, '$1  ') : l))
      .filter((l) => indent(l) === dash + 2)
      .map((l) => l.trim())
    if (drop(own)) {
      while (
        out.length > 0 &&
        /^\s*#/.test(out.at(-1) ?? '') &&
        indent(out.at(-1) ?? '') === dash
      ) {
        out.pop()
      }
      i = end - 1
    } else {
      out.push(line)
    }
  }
  return out.join('\n')
}

/**
 * render.yaml without the Key Value service and the variables that point at it.
 * @param {string} yaml
 */
export function blueprintWithoutRedis(yaml) {
  return removeYamlItems(
    yaml,
    (own) => own.includes('type: keyvalue') || own.includes('key: REDIS_URL'),
  )
}

/**
 * .env.example without REDIS_URL and the comment lines that explain it.
 * @param {string} text
 */
export function envExampleWithoutRedis(text) {
  const out = []
  for (const line of text.split('\n')) {
    if (/^#?\s*REDIS_URL=/.test(line)) {
      while (out.length > 0 && /^#(?!\s*---)/.test(out.at(-1) ?? '')) out.pop()
    } else {
      out.push(line)
    }
  }
  return out.join('\n')
}

/**
 * The blueprint's service names follow the app's name (freetier -> my-app, freetier-db ->
 * my-app-db), so two apps made from freetier do not look alike in the dashboard.
 * @param {string} yaml
 * @param {string} from
 * @param {string} to
 */
export function renameServices(yaml, from, to) {
  const escaped = from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return yaml.replace(
    new RegExp(`^(\\s*(?:- )?name: )${escaped}(-[a-z0-9-]+)?$`, 'gm'),
    `$1${to}$2`,
  )
}

// ---------------------------------------------------------------------------------------------
// Writing

/**
 * @typedef {object} Plan
 * @property {string} dir
 * @property {string} name
 * @property {boolean} redis
 * @property {boolean} install
 * @property {boolean} git
 * @property {string} pm
 * @property {'missing' | 'empty' | 'not-empty'} state
 * @property {boolean} overwrite
 */

/**
 * Assembles the app in `stage`.
 * @param {string} stage
 * @param {Plan} plan
 * @param {Record<string, unknown>} pkg the package's own package.json
 * @param {string[]} files
 * @param {string[]} scaffolder
 */
function assemble(stage, plan, pkg, files, scaffolder) {
  for (const rel of files) {
    // npm renames .gitignore to .npmignore when it installs a package: turn it back.
    const target = rel === '.npmignore' ? '.gitignore' : rel
    fs.mkdirSync(path.dirname(path.join(stage, target)), { recursive: true })
    fs.copyFileSync(path.join(SOURCE, rel), path.join(stage, target))
  }
  if (!fs.existsSync(path.join(stage, '.gitignore'))) {
    fs.writeFileSync(path.join(stage, '.gitignore'), FALLBACK_GITIGNORE)
  }
  const app = appPackageJson(pkg, plan.name, scaffolder)
  fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(app, null, 2)}\n`)

  /** @param {string} rel @param {(text: string) => string} change */
  const edit = (rel, change) => {
    const file = path.join(stage, rel)
    if (fs.existsSync(file)) fs.writeFileSync(file, change(fs.readFileSync(file, 'utf8')))
  }
  const serviceName = plan.name.replace(/^@[^/]+\//, '')
  edit('render.yaml', (yaml) => {
    const renamed = renameServices(yaml, String(pkg.name), serviceName)
    return plan.redis ? renamed : blueprintWithoutRedis(renamed)
  })
  if (!plan.redis) edit('.env.example', envExampleWithoutRedis)
  edit('README.md', (text) => text.replace(/^# .*$/m, `# ${plan.name}`))
}

/**
 * @param {string} cmd
 * @param {string[]} args
 * @param {string} cwd
 */
function run(cmd, args, cwd) {
  return spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    shell: process.platform === 'win32',
  })
}

/** @param {string} cmd */
function available(cmd) {
  const result = run(cmd, ['--version'], process.cwd())
  return result.error === undefined && result.status === 0
}

/**
 * A git repository with the app as its first commit, made in the staging directory so a failure
 * to initialize leaves nothing behind. A commit that git refuses (no user.name/email) is
 * reported, not fatal: the files stay staged.
 * @param {string} stage
 * @returns {string} what happened
 */
function gitInit(stage) {
  const init = run('git', ['init', '--quiet'], stage)
  if (init.status !== 0) fail(`git init failed: ${init.stderr.trim()}`)
  const add = run('git', ['add', '--all'], stage)
  if (add.status !== 0) fail(`git add failed: ${add.stderr.trim()}`)
  const commit = run(
    'git',
    ['commit', '--quiet', '--no-verify', '-m', 'Initial commit from create-freetier'],
    stage,
  )
  if (commit.status === 0) return 'git repository created with a first commit'
  const why = commit.stderr.trim().split('\n').pop()
  return `git repository created; the first commit was skipped (${why}): run git commit yourself`
}

/**
 * Moves the staged app into the target directory. Existing entries (when overwriting) are set
 * aside first and deleted only once the new ones are in place.
 * @param {string} stage
 * @param {Plan} plan
 */
function moveIntoPlace(stage, plan) {
  if (plan.state === 'missing') {
    fs.mkdirSync(path.dirname(plan.dir), { recursive: true })
    fs.renameSync(stage, plan.dir)
    return
  }
  const old = `${stage}-old`
  const existing = fs.readdirSync(plan.dir).filter((entry) => entry !== '.git')
  const keepGit = fs.existsSync(path.join(plan.dir, '.git'))
  const incoming = fs.readdirSync(stage).filter((entry) => !(keepGit && entry === '.git'))
  /** @type {string[]} */
  const moved = []
  fs.mkdirSync(old)
  try {
    for (const entry of existing) {
      fs.renameSync(path.join(plan.dir, entry), path.join(old, entry))
    }
    for (const entry of incoming) {
      fs.renameSync(path.join(stage, entry), path.join(plan.dir, entry))
      moved.push(entry)
    }
  } catch (error) {
    // Put the directory back as it was.
    for (const entry of moved)
      fs.rmSync(path.join(plan.dir, entry), { recursive: true, force: true })
    for (const entry of fs.readdirSync(old)) {
      fs.renameSync(path.join(old, entry), path.join(plan.dir, entry))
    }
    throw error
  }
  fs.rmSync(stage, { recursive: true, force: true })
  fs.rmSync(old, { recursive: true, force: true })
}

// ---------------------------------------------------------------------------------------------
// Questions (on a terminal only)

/**
 * @param {Options} options
 * @returns {Promise<Plan>}
 */
async function ask(options) {
  const rl = createInterface({ input: process.stdin, output: process.stdout })
  let answering = true
  const cancel = () => {
    if (!answering) return
    process.stdout.write('\n')
    process.stderr.write('create-freetier: cancelled; nothing was written\n')
    process.exit(1)
  }
  rl.on('SIGINT', cancel)
  rl.on('close', cancel)
  /** @param {string} question @param {boolean} fallback */
  const confirm = async (question, fallback) => {
    for (;;) {
      const answer = (await rl.question(`${question} (${fallback ? 'Y/n' : 'y/N'}) `)).trim()
      if (answer === '') return fallback
      if (/^y(es)?$/i.test(answer)) return true
      if (/^no?$/i.test(answer)) return false
      process.stdout.write('  Please answer y or n.\n')
    }
  }
  try {
    let input = options.dir
    let fallback = DEFAULT_DIR
    let target = resolveTarget(input ?? DEFAULT_DIR, process.cwd())
    for (;;) {
      if (input === undefined) {
        const answer = (await rl.question(`Project directory (${fallback}): `)).trim()
        target = resolveTarget(answer || fallback, process.cwd())
      }
      input = undefined
      const nameProblem = explainName(target.name)
      if (nameProblem) {
        // Offer the fix as the next default: Enter accepts it.
        const fixed = path.join(path.dirname(target.dir), suggestName(target.name))
        fallback = path.relative(process.cwd(), fixed) || '.'
        process.stdout.write(`  ${nameProblem}\n`)
        continue
      }
      const state = targetState(target.dir)
      if (state === 'not-a-directory') {
        process.stdout.write(`  ${target.dir} exists and is not a directory.\n`)
        continue
      }
      if (state !== 'not-empty' || options.overwrite) break
      const shown = path.relative(process.cwd(), target.dir) || '.'
      if (await confirm(`${shown} is not empty. Remove its contents (a .git is kept)?`, false)) {
        options.overwrite = true
        break
      }
    }
    const redis =
      options.redis ?? (await confirm('Include Redis (a Render Key Value instance)?', true))
    const install =
      options.install ?? (await confirm(`Install dependencies with ${options.pm}?`, true))
    const hasGit = fs.existsSync(path.join(target.dir, '.git'))
    const git = options.git ?? (hasGit ? false : await confirm('Create a git repository?', true))
    answering = false
    rl.close()
    return makePlan({ ...options, redis, install, git }, target)
  } finally {
    answering = false
    rl.close()
  }
}

/**
 * @param {string} dir
 * @param {boolean} overwrite
 */
function stateProblem(dir, overwrite) {
  const state = targetState(dir)
  if (state === 'not-a-directory') return `${dir} exists and is not a directory.`
  if (state === 'not-empty' && !overwrite) {
    return `${dir} is not empty. Choose another directory, or pass --overwrite to replace its contents (a .git is kept).`
  }
  return undefined
}

/**
 * Checks everything that can be checked before writing, and fills in the defaults.
 * @param {Options} options
 * @param {{ dir: string, name: string }} target
 * @returns {Plan}
 */
function makePlan(options, target) {
  const nameProblem = explainName(target.name)
  if (nameProblem) fail(nameProblem)
  const problem = stateProblem(target.dir, options.overwrite)
  if (problem) fail(problem)
  const state = /** @type {Plan['state']} */ (targetState(target.dir))
  const install = options.install ?? true
  if (install && !available(options.pm)) {
    fail(
      `${options.pm} was not found on PATH. Install it, choose another with --pm, or pass --no-install.`,
    )
  }
  const hasGit = state !== 'missing' && fs.existsSync(path.join(target.dir, '.git'))
  let git = options.git ?? !hasGit
  if (git && hasGit) git = false
  if (git && !available('git')) {
    if (options.git === true) fail('git was not found on PATH. Install it, or pass --no-git.')
    git = false
  }
  const ancestor = existingAncestor(state === 'missing' ? path.dirname(target.dir) : target.dir)
  try {
    fs.accessSync(ancestor, fs.constants.W_OK)
  } catch {
    fail(`cannot write in ${ancestor}`)
  }
  return {
    dir: target.dir,
    name: target.name,
    redis: options.redis ?? true,
    install,
    git,
    pm: options.pm,
    state,
    overwrite: options.overwrite,
  }
}

// ---------------------------------------------------------------------------------------------
// Main

/**
 * @param {string} pm
 * @param {string} script
 */
function runScript(pm, script) {
  if (pm === 'npm') return script === 'test' ? 'npm test' : `npm run ${script}`
  if (pm === 'bun') return `bun run ${script}`
  return `${pm} ${script}`
}

/**
 * @param {string[]} argv
 * @param {NodeJS.ProcessEnv} env
 * @returns {Promise<number>} the exit code
 */
export async function main(argv, env) {
  const options = parseOptions(argv, env)
  const pkg = /** @type {Record<string, unknown>} */ (
    JSON.parse(fs.readFileSync(path.join(SOURCE, 'package.json'), 'utf8'))
  )
  if (options.help) {
    process.stdout.write(HELP)
    return 0
  }
  if (options.version) {
    const own = JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8'))
    process.stdout.write(`${own.version}\n`)
    return 0
  }
  const interactive = !options.yes && process.stdin.isTTY === true && process.stdout.isTTY === true
  const plan = interactive
    ? await ask(options)
    : makePlan(options, resolveTarget(options.dir ?? DEFAULT_DIR, process.cwd()))

  const scaffolder = ['packages']
  const files = templateFiles(SOURCE, TEMPLATE_FILES, scaffolder)
  if (!files.includes('package.json')) files.push('package.json')
  const shown = path.relative(process.cwd(), plan.dir) || '.'
  process.stdout.write(`\nCreating ${plan.name} in ${plan.dir}\n`)

  const stage = fs.mkdtempSync(
    path.join(existingAncestor(path.dirname(plan.dir)), '.create-freetier-'),
  )
  let gitNote
  try {
    assemble(stage, plan, pkg, files, scaffolder)
    if (plan.git) gitNote = gitInit(stage)
    moveIntoPlace(stage, plan)
  } catch (error) {
    fs.rmSync(stage, { recursive: true, force: true })
    fs.rmSync(`${stage}-old`, { recursive: true, force: true })
    throw error
  }
  process.stdout.write(`  ${files.length} files written${plan.redis ? '' : ' (without Redis)'}\n`)
  if (gitNote) process.stdout.write(`  ${gitNote}\n`)

  if (plan.install) {
    process.stdout.write(`\nInstalling dependencies with ${plan.pm} (this takes a minute)...\n\n`)
    const installed = spawnSync(plan.pm, ['install'], {
      cwd: plan.dir,
      stdio: 'inherit',
      shell: process.platform === 'win32',
    })
    if (installed.status !== 0) {
      process.stderr.write(
        `\ncreate-freetier: ${plan.pm} install failed (${installed.error?.message ?? `exit code ${installed.status}`}). The app is in ${shown}; fix the problem above and run "${plan.pm} install" there.\n`,
      )
      return 1
    }
  }

  const steps = [`cd ${shown}`]
  if (!plan.install) steps.push(`${plan.pm} install`)
  steps.push(
    `${runScript(plan.pm, 'dev')}      # http://127.0.0.1:10000/healthz on embedded Postgres`,
    `${runScript(plan.pm, 'test')}`,
  )
  process.stdout.write(
    `\nDone. Next steps:\n\n${steps.map((s) => `  ${s}`).join('\n')}\n\nDeploy: push it to GitHub, then open https://render.com/deploy?repo=<your repository URL>\n(README.md, section "Deploy to Render", says what gets created and the free tier's limits).\n`,
  )
  return 0
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(SELF)) {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code
    },
    (error) => {
      if (error instanceof UsageError) {
        process.stderr.write(`create-freetier: ${error.message}\n`)
      } else {
        process.stderr.write(`create-freetier: ${error?.stack ?? error}\n`)
      }
      process.exitCode = 1
    },
  )
}
