// @ts-check
/** The app's name: the rules npm applies to a package name, and the directory it goes in. */
import { builtinModules } from 'node:module'
import path from 'node:path'

export const DEFAULT_DIR = 'my-freetier-app'
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
export function explainName(name) {
  const problems = nameProblems(name)
  if (problems.length === 0) return undefined
  return `"${name}" cannot be an npm package name: ${problems.join('; ')}.\n  Try "${suggestName(name)}" instead (the directory's name becomes the package name).`
}
