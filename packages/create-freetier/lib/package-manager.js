// @ts-check
/**
 * The chosen package manager in the app: its package.json scripts and render.yaml's build
 * command say it, translated from the npm commands the template is written with.
 */

export const PACKAGE_MANAGERS = ['npm', 'pnpm', 'yarn', 'bun']

/** The lockfile each one writes (committed in the app's first commit). */
export const LOCKFILES = /** @type {Record<string, string>} */ ({
  npm: 'package-lock.json',
  pnpm: 'pnpm-lock.yaml',
  yarn: 'yarn.lock',
  bun: 'bun.lock',
})

/**
 * The package manager running us, from the user agent it sets (`pnpm/9.1.0 npm/? node/v20...`).
 * @param {NodeJS.ProcessEnv} env
 */
export function detectPackageManager(env) {
  const name = /^([a-z]+)\//.exec(env.npm_config_user_agent ?? '')?.[1]
  return name && PACKAGE_MANAGERS.includes(name) ? name : 'npm'
}

/**
 * How a script runs from a shell: `npm run dev`, `pnpm dev`, `yarn dev`, `bun run dev`.
 * @param {string} pm
 * @param {string} script
 */
export function runScript(pm, script) {
  if (pm === 'npm')
    return ['test', 'start'].includes(script) ? `npm ${script}` : `npm run ${script}`
  if (pm === 'bun') return `bun run ${script}`
  return `${pm} ${script}`
}

/**
 * `npm run <script> [--flags]` inside a package script, for `pm`. npm reads flags after the
 * script's name as its own; pnpm and yarn pass them to the script, so they move before it
 * (pnpm, bun) or go (yarn, which has no --silent for run).
 * @param {string} pm
 * @param {string} script
 * @param {string[]} flags
 */
function runInScript(pm, script, flags) {
  if (pm === 'npm') return ['npm', 'run', script, ...flags].join(' ')
  if (pm === 'yarn') return `yarn run ${script}`
  return [pm, 'run', ...flags, script].join(' ')
}

/**
 * package.json scripts for `pm`. pnpm and yarn do not run `pre<name>`/`post<name>` scripts,
 * so those are folded into the script they belong to (for every non-npm manager, alike).
 * @param {Record<string, string>} scripts
 * @param {string} pm
 * @returns {Record<string, string>}
 */
export function scriptsFor(scripts, pm) {
  if (pm === 'npm') return { ...scripts }
  const translate = (/** @type {string} */ command) =>
    command
      .replace(/\bnpm run ([\w:.-]+)((?:\s+--?[\w-]+)*)/g, (_, script, flags) =>
        runInScript(pm, script, flags.trim().split(/\s+/).filter(Boolean)),
      )
      .replace(/\bnpm (test|start)\b/g, (_, script) => runScript(pm, script))
      .replace(
        /\bnpx (--yes |-y )?/g,
        pm === 'pnpm' ? 'pnpm exec ' : pm === 'bun' ? 'bunx ' : 'yarn ',
      )
  /** @type {Record<string, string>} */
  const out = {}
  for (const [name, command] of Object.entries(scripts)) {
    const hook = /^(pre|post)(.+)$/.exec(name)
    if (hook?.[2] && hook[2] in scripts) continue // folded below
    const pre = scripts[`pre${name}`]
    const post = scripts[`post${name}`]
    out[name] = [pre, command, post]
      .filter((part) => part !== undefined)
      .map((part) => translate(/** @type {string} */ (part)))
      .join(' && ')
  }
  return out
}

/**
 * How the deploy runs the package manager. npm comes with Node; the others may not be on the
 * platform's image (corepack left Node with version 25), so they run through npx at the version
 * that made the app.
 * @param {string} pm
 * @param {string | undefined} version
 */
export function deployInvocation(pm, version) {
  if (pm === 'npm') return 'npm'
  return `npx --yes ${pm}@${version ?? 'latest'}`
}

/**
 * render.yaml's buildCommand (written with npm) for `pm`: each `&&` step that runs npm is
 * translated; a step it cannot translate is an error, so a new command in the template's
 * blueprint fails the scaffolder's tests rather than an app's deploy.
 * @param {string} command
 * @param {string} pm
 * @param {{ lockfile: boolean, version?: string }} options lockfile: the app has one committed
 */
export function buildCommandFor(command, pm, { lockfile, version }) {
  const bin = deployInvocation(pm, version)
  const steps = command.split(/\s*&&\s*/).map((step) => {
    const install = /^npm (ci|install|i)((?:\s+--?[\w=-]+)*)$/.exec(step)
    if (install) {
      const flags = (install[2] ?? '').trim().split(/\s+/).filter(Boolean)
      const dev = flags.includes('--include=dev')
      if (pm === 'npm') return ['npm', lockfile ? 'ci' : 'install', ...flags].join(' ')
      if (pm === 'pnpm') {
        const frozen = lockfile ? '--frozen-lockfile' : '--no-frozen-lockfile'
        return [bin, 'install', frozen, ...(dev ? ['--prod=false'] : [])].join(' ')
      }
      if (pm === 'yarn') {
        return [
          bin,
          'install',
          ...(lockfile ? ['--frozen-lockfile'] : []),
          ...(dev ? ['--production=false'] : []),
        ].join(' ')
      }
      return [bin, 'install', ...(lockfile ? ['--frozen-lockfile'] : [])].join(' ')
    }
    const run = /^npm run ([\w:.-]+)$/.exec(step)
    if (run) return pm === 'npm' ? step : `${bin} run ${run[1]}`
    if (/^npm prune\b.*--omit=dev/.test(step)) {
      if (pm === 'npm') return step
      // yarn and bun have no prune that keeps the build: the deploy keeps its dev dependencies.
      return pm === 'pnpm' ? `${bin} prune --prod` : undefined
    }
    if (/^(npm|npx)\b/.test(step)) {
      throw new Error(`render.yaml's buildCommand step "${step}" has no ${pm} translation`)
    }
    return step
  })
  return steps.filter((step) => step !== undefined).join(' && ')
}
