// @ts-check
/** The app made from the template: what is copied, what is rewritten, what is left out. */
import { appReadme } from './app-readme.js'
import {
  blueprintWithoutRedis,
  envExampleWithoutRedis,
  renameServices,
  rewriteBuildCommand,
} from './blueprint.js'
import { buildCommandFor, scriptsFor } from './package-manager.js'
import { withoutRedis } from './redis.js'

/**
 * @typedef {import('./template.js').Template} Template
 * @typedef {object} AppChoices
 * @property {string} name the package name
 * @property {string} pm
 * @property {string} [pmVersion] the package manager's version, when it is installed here
 * @property {boolean} redis
 * @property {boolean} lockfile whether the app will have a lockfile when it is first committed
 */

/** package.json fields that describe the template, not an app made from it. */
const TEMPLATE_FIELDS = ['description', 'license', 'keywords', 'repository', 'homepage', 'bugs']

/**
 * The app's package.json: its own name, version 0.1.0, private, scripts for its package
 * manager.
 * @param {Record<string, unknown>} pkg the template's
 * @param {AppChoices} choices
 */
export function appPackageJson(pkg, choices) {
  /** @type {Record<string, unknown>} */
  const app = { name: choices.name, version: '0.1.0', private: true }
  for (const [key, value] of Object.entries(pkg)) {
    if (!(key in app) && !TEMPLATE_FIELDS.includes(key)) app[key] = value
  }
  const scripts = /** @type {Record<string, string> | undefined} */ (pkg.scripts)
  if (scripts) app.scripts = scriptsFor(scripts, choices.pm)
  if (choices.pm !== 'npm' && choices.pmVersion) {
    app.packageManager = `${choices.pm}@${choices.pmVersion}`
  }
  return app
}

/**
 * Every file of the app, from the template and the choices. Pure: the caller writes them.
 * @param {Template} template
 * @param {AppChoices} choices
 * @returns {Template}
 */
export function appFiles(template, choices) {
  /** @type {Template} */
  let files = { ...template }
  /** @param {string} file @param {(text: string) => string} change */
  const edit = (file, change) => {
    const current = files[file]
    if (current && !current.base64) files[file] = { ...current, text: change(current.text) }
  }
  const pkgFile = files['package.json']
  if (!pkgFile) throw new Error('the template has no package.json')
  const pkg = JSON.parse(pkgFile.text)
  const serviceName = choices.name.replace(/^@[^/]+\//, '')
  edit('render.yaml', (yaml) => {
    let out = renameServices(yaml, String(pkg.name), serviceName)
    out = rewriteBuildCommand(out, (command) =>
      buildCommandFor(command, choices.pm, {
        lockfile: choices.lockfile,
        version: choices.pmVersion,
      }),
    )
    return choices.redis ? out : blueprintWithoutRedis(out)
  })
  if (!choices.redis) {
    edit('.env.example', envExampleWithoutRedis)
    files = withoutRedis(files)
  }
  const app = appPackageJson(JSON.parse(files['package.json']?.text ?? '{}'), choices)
  files['package.json'] = { text: `${JSON.stringify(app, null, 2)}\n` }
  files['README.md'] = {
    text: appReadme({
      name: choices.name,
      pm: choices.pm,
      redis: choices.redis,
      docs: Object.keys(files).some((file) => file.startsWith('docs/')),
      templateReadme: template['README.md']?.text,
    }),
  }
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)))
}
