// @ts-check
/** The command line: options, help, and the errors a user can fix. */
import { parseArgs } from 'node:util'
import { DEFAULT_DIR } from './names.js'
import { detectPackageManager, PACKAGE_MANAGERS } from './package-manager.js'

export const HELP = `Usage: npm create freetier@latest [directory] [-- options]
       npx create-freetier [directory] [options]

Creates a freetier app (Fastify, Postgres, Redis, tuned for Render's free tier) in <directory>.
The directory's name becomes the app's package name. On a terminal it asks for what the options
do not say; with --yes, or without a terminal, it takes the defaults.

Options:
  -y, --yes          ask nothing: directory ${DEFAULT_DIR}, Redis, install and git unless
                     switched off below
      --no-redis     an app without Redis: no Redis code, no ioredis, no Key Value service in
                     render.yaml, no REDIS_URL in .env.example
      --no-install   do not install dependencies (render.yaml's build then installs without a
                     lockfile)
      --no-git       do not create a git repository with a first commit
      --pm <name>    package manager: npm, pnpm, yarn or bun (default: the one running
                     this command, else npm); the app's scripts and render.yaml use it
      --overwrite    empty a non-empty directory first (a .git inside it is kept)
  -h, --help         show this help
  -v, --version      print the version
`

/** An error the user can fix: printed without a stack, exit code 1. */
export class UsageError extends Error {}

/** @param {string} message @returns {never} */
export function fail(message) {
  throw new UsageError(message)
}

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
