#!/usr/bin/env node
// @ts-check
/**
 * create-freetier: `npm create freetier@latest [dir]` makes a new app from the template this
 * package carries (template.json, the app as the repository tracks it, written when the package
 * is packed). Plain JavaScript, Node's own modules only: it runs straight from the tarball.
 *
 * Everything is validated before the first write; the files are assembled beside the target and
 * moved into place at once. Then the dependencies are installed, and the first commit is made
 * with the lockfile in it, so the app deploys from that commit.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline/promises'
import { fileURLToPath } from 'node:url'
import { fail, HELP, parseOptions, UsageError } from './lib/args.js'
import { DEFAULT_DIR, explainName, resolveTarget, suggestName } from './lib/names.js'
import { LOCKFILES, runScript } from './lib/package-manager.js'
import {
  existingAncestor,
  makeStage,
  moveIntoPlace,
  targetState,
  writeFiles,
} from './lib/target.js'

const SELF = fileURLToPath(import.meta.url)
const PACKAGE = path.dirname(SELF)

/**
 * @typedef {import('./lib/args.js').Options} Options
 * @typedef {object} Plan
 * @property {string} dir
 * @property {string} name
 * @property {boolean} redis
 * @property {boolean} install
 * @property {boolean} git
 * @property {string} pm
 * @property {string | undefined} pmVersion
 * @property {'missing' | 'empty' | 'not-empty'} state
 * @property {boolean} overwrite
 */

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

/**
 * The version of `cmd` when it is on PATH, else undefined.
 * @param {string} cmd
 */
function versionOf(cmd) {
  const result = run(cmd, ['--version'], process.cwd())
  if (result.error !== undefined || result.status !== 0) return undefined
  return /(\d+\.\d+\.\d+[\w.+-]*)/.exec(result.stdout)?.[1] ?? result.stdout.trim()
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
  const pmVersion = versionOf(options.pm)
  if (install && pmVersion === undefined) {
    fail(
      `${options.pm} was not found on PATH. Install it, choose another with --pm, or pass --no-install.`,
    )
  }
  const hasGit = state !== 'missing' && fs.existsSync(path.join(target.dir, '.git'))
  let git = options.git ?? !hasGit
  if (git && hasGit) git = false
  if (git && versionOf('git') === undefined) {
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
    pmVersion,
    state,
    overwrite: options.overwrite,
  }
}

// ---------------------------------------------------------------------------------------------
// After the files: install, then the first commit

/**
 * A git repository with the app, lockfile included, as its first commit. A commit that git
 * refuses (no user.name/email) is reported, not fatal: the files stay staged.
 * @param {string} dir
 * @returns {string} what happened
 */
function gitInit(dir) {
  const init = run('git', ['init', '--quiet'], dir)
  if (init.status !== 0) return `git init failed (${init.stderr.trim()}): no repository made`
  const add = run('git', ['add', '--all'], dir)
  if (add.status !== 0) return `git add failed (${add.stderr.trim()}): nothing committed`
  const commit = run(
    'git',
    ['commit', '--quiet', '--no-verify', '-m', 'Initial commit from create-freetier'],
    dir,
  )
  if (commit.status === 0) return 'git repository created with a first commit'
  const why = commit.stderr.trim().split('\n').pop()
  return `git repository created; the first commit was skipped (${why}): run git commit yourself`
}

// ---------------------------------------------------------------------------------------------
// Main

/**
 * @param {string[]} argv
 * @param {NodeJS.ProcessEnv} env
 * @returns {Promise<number>} the exit code
 */
export async function main(argv, env) {
  const options = parseOptions(argv, env)
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

  // Loaded after the questions: the first one is asked before any template work.
  const { loadTemplate } = await import('./lib/template.js')
  const { appFiles } = await import('./lib/app.js')
  const files = appFiles(loadTemplate(PACKAGE).template, {
    name: plan.name,
    pm: plan.pm,
    pmVersion: plan.pmVersion,
    redis: plan.redis,
    lockfile: plan.install,
  })
  const shown = path.relative(process.cwd(), plan.dir) || '.'
  process.stdout.write(`\nCreating ${plan.name} in ${plan.dir}\n`)

  const stage = makeStage(plan.dir)
  try {
    writeFiles(stage, files)
    moveIntoPlace(stage, plan)
  } catch (error) {
    fs.rmSync(stage, { recursive: true, force: true })
    fs.rmSync(`${stage}-old`, { recursive: true, force: true })
    throw error
  }
  const count = Object.keys(files).length
  process.stdout.write(`  ${count} files written${plan.redis ? '' : ' (without Redis)'}\n`)

  if (plan.install) {
    process.stdout.write(`\nInstalling dependencies with ${plan.pm} (this takes a minute)...\n\n`)
    const installed = spawnSync(plan.pm, ['install'], {
      cwd: plan.dir,
      stdio: 'inherit',
      shell: process.platform === 'win32',
    })
    if (installed.status !== 0) {
      process.stderr.write(
        `\ncreate-freetier: ${plan.pm} install failed (${installed.error?.message ?? `exit code ${installed.status}`}). The app is in ${shown}, not committed; fix the problem above, run "${plan.pm} install" there, then git init and commit.\n`,
      )
      return 1
    }
    if (!fs.existsSync(path.join(plan.dir, LOCKFILES[plan.pm] ?? ''))) {
      process.stdout.write(`  note: ${plan.pm} wrote no ${LOCKFILES[plan.pm]}\n`)
    }
  }
  if (plan.git) process.stdout.write(`  ${gitInit(plan.dir)}\n`)

  const steps = [`cd ${shown}`]
  if (!plan.install) steps.push(`${plan.pm} install`)
  steps.push(
    `${runScript(plan.pm, 'dev')}      # http://127.0.0.1:10000/healthz on embedded Postgres`,
    `${runScript(plan.pm, 'test')}`,
  )
  process.stdout.write(
    `\nDone. Next steps:\n\n${steps.map((s) => `  ${s}`).join('\n')}\n\nDeploy: push it to GitHub, then open https://render.com/deploy?repo=<your repository URL>\n(README.md says what gets created; docs/deploy.md has the details).\n`,
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
