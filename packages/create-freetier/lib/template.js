// @ts-check
/**
 * The template: the app, as the repository tracks it, minus what only the template needs.
 * Published, it is one JSON file (template.json, written when the package is packed); run from
 * a checkout, it is read from the repository with the same rules.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

/**
 * What never goes into an app (README.md is in the template, and replaced in the app by its own,
 * lib/app-readme.js, which keeps its "Make it yours" section). The one list of template-only files: anything that exists for
 * the template itself (its scaffolder, CI, license, front door, published results) goes here.
 * A pattern ending in `/` is a directory; `*` matches within one path segment.
 */
export const TEMPLATE_ONLY = [
  'packages/', // the scaffolder
  '.ci/', // the template's CI
  'LICENSE', // names the template's authors; an app's owner chooses its own
  'package-lock.json', // the app's own install makes its lockfile (committed in its first commit)
  'docs/create.md', // how the scaffolder works and is published
  'docs/bench-*', // the template's published benchmark results (figures, charts)
  'bench/results/', // the same, if the bench keeps them beside the harness
  'scripts/bench-publish.ts', // writes those results into README.md and docs/bench-*
  'test/bench-publish.test.ts', // its test
]

/**
 * @param {string} pattern
 * @returns {(file: string) => boolean}
 */
function matcher(pattern) {
  const dir = pattern.endsWith('/')
  const glob = dir ? pattern.slice(0, -1) : pattern
  const source = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]*')
  const regex = new RegExp(dir ? `^${source}/` : `^${source}$`)
  return (file) => regex.test(file)
}

const templateOnly = TEMPLATE_ONLY.map(matcher)

/** @param {string} file a path relative to the repository root, with `/` */
export function isTemplateOnly(file) {
  return templateOnly.some((matches) => matches(file))
}

/**
 * @typedef {object} TemplateFile
 * @property {string} text the content (UTF-8), or base64 when `base64` is set
 * @property {boolean} [base64]
 * @property {boolean} [executable]
 */
/** @typedef {Record<string, TemplateFile>} Template path -> file, sorted by path */

/**
 * The app from a git checkout: the files git tracks (as they are in the working tree), minus
 * the template-only ones.
 * @param {string} root the repository root
 * @returns {Template}
 */
export function templateFromCheckout(root) {
  const listed = spawnSync('git', ['ls-files', '-z', '--stage'], { cwd: root, encoding: 'utf8' })
  if (listed.error || listed.status !== 0) {
    throw new Error(`git ls-files failed in ${root}: ${listed.stderr || listed.error?.message}`)
  }
  /** @type {Template} */
  const template = {}
  for (const entry of listed.stdout.split('\0')) {
    // "<mode> <object> <stage>\t<path>"; submodules (160000) and symlinks (120000) are skipped.
    const match = /^(100644|100755) [0-9a-f]+ \d\t(.+)$/s.exec(entry)
    if (!match?.[2] || isTemplateOnly(match[2])) continue
    const file = match[2]
    const full = path.join(root, file)
    if (!fs.existsSync(full)) continue // deleted in the working tree
    const bytes = fs.readFileSync(full)
    const text = bytes.toString('utf8')
    const binary = !Buffer.from(text, 'utf8').equals(bytes)
    template[file] = {
      text: binary ? bytes.toString('base64') : text,
      ...(binary ? { base64: true } : {}),
      ...(match[1] === '100755' ? { executable: true } : {}),
    }
  }
  return template
}

/**
 * The published template (template.json beside the package), else the checkout around it.
 * @param {string} packageDir
 * @returns {{ template: Template, from: string }}
 */
export function loadTemplate(packageDir) {
  const bundled = path.join(packageDir, 'template.json')
  if (fs.existsSync(bundled)) {
    return { template: JSON.parse(fs.readFileSync(bundled, 'utf8')), from: bundled }
  }
  const root = path.resolve(packageDir, '..', '..')
  return { template: templateFromCheckout(root), from: root }
}
