// @ts-check
/**
 * --no-redis: the app without Redis, by one rule the app's code keeps (docs/layout.md, "Redis
 * is removable"):
 *
 * - a file is Redis-only when a folder on its path is named `redis` or its file name has
 *   `redis` as a word (`plugins/redis.ts`, `cache/redis-l2.ts`, `test/redis.test.ts`): it is
 *   deleted;
 * - a line ending in `// redis-only` is deleted (the import and registration of a Redis-only
 *   plugin in src/app.ts, a setting in src/config.ts), and so is every line from one that ends
 *   in `// redis-only: start` to one that ends in `// redis-only: end`;
 * - the `ioredis` dependency goes.
 *
 * What is left must not import anything deleted: `leftovers` lists what would, and the
 * scaffolder refuses to write an app that would not build.
 */

/** Code files the rule applies to (docs keep their words about Redis). */
const CODE = /\.(ts|mts|cts|js|mjs|cjs)$/
const REDIS_ONLY_PATH = /(^|\/)redis\/|(^|[/._-])redis[._-][^/]*$/
const LINE = /\/\/\s*redis-only\s*$/
const START = /\/\/\s*redis-only:\s*start\s*$/
const END = /\/\/\s*redis-only:\s*end\s*$/

/** @param {string} file */
export function isRedisOnly(file) {
  return CODE.test(file) && REDIS_ONLY_PATH.test(file)
}

/**
 * The lines of `text` outside the redis-only markers.
 * @param {string} text
 * @param {string} file for error messages
 */
export function stripRedisLines(text, file) {
  const out = []
  let inside = false
  for (const [i, line] of text.split('\n').entries()) {
    if (START.test(line)) {
      if (inside) throw new Error(`${file}:${i + 1}: redis-only: start inside another`)
      inside = true
    } else if (END.test(line)) {
      if (!inside) throw new Error(`${file}:${i + 1}: redis-only: end without a start`)
      inside = false
    } else if (!inside && !LINE.test(line)) {
      out.push(line)
    }
  }
  if (inside) throw new Error(`${file}: redis-only: start without an end`)
  // Formatted as before: no run of blank lines, none at the end, where a removal left them.
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`
}

/**
 * Relative imports and package imports of each code file.
 * @param {string} text
 */
function importsOf(text) {
  const found = []
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g
  for (const match of text.matchAll(pattern)) if (match[1]) found.push(match[1])
  return found
}

/**
 * The file an import of `specifier` from `file` names, when it is relative (TypeScript's
 * NodeNext style: `./x.js` is `./x.ts` in the sources).
 * @param {string} file
 * @param {string} specifier
 */
function resolveRelative(file, specifier) {
  const parts = file.split('/').slice(0, -1)
  for (const part of specifier.split('/')) {
    if (part === '..') parts.pop()
    else if (part !== '.') parts.push(part)
  }
  return parts.join('/')
}

/**
 * What in `files` still refers to Redis after the rule was applied: imports of deleted files
 * or of ioredis. Empty when the app builds without Redis.
 * @param {import('./template.js').Template} files what is left
 * @param {Set<string>} deleted
 */
export function leftovers(files, deleted) {
  /** @type {string[]} */
  const problems = []
  const gone = new Set([...deleted].flatMap((file) => [file, file.replace(/\.ts$/, '.js')]))
  for (const [file, { text }] of Object.entries(files)) {
    if (!CODE.test(file)) continue
    for (const specifier of importsOf(text)) {
      if (specifier === 'ioredis' || specifier.startsWith('ioredis/')) {
        problems.push(`${file} imports ${specifier}`)
      } else if (specifier.startsWith('.') && gone.has(resolveRelative(file, specifier))) {
        problems.push(`${file} imports ${specifier} (Redis-only, deleted)`)
      }
    }
  }
  return problems
}

/**
 * @param {import('./template.js').Template} files
 * @returns {import('./template.js').Template}
 */
export function withoutRedis(files) {
  /** @type {import('./template.js').Template} */
  const out = {}
  const deleted = new Set()
  for (const [file, content] of Object.entries(files)) {
    if (isRedisOnly(file)) {
      deleted.add(file)
    } else if (CODE.test(file) && !content.base64) {
      out[file] = { ...content, text: stripRedisLines(content.text, file) }
    } else {
      out[file] = content
    }
  }
  const problems = leftovers(out, deleted)
  if (problems.length > 0) {
    throw new Error(
      `this template cannot make an app without Redis (its code breaks the rule in docs/layout.md, "Redis is removable"):\n  ${problems.join('\n  ')}`,
    )
  }
  const pkgFile = out['package.json']
  if (pkgFile) {
    const pkg = JSON.parse(pkgFile.text)
    for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
      if (pkg[field]) delete pkg[field].ioredis
    }
    out['package.json'] = { ...pkgFile, text: `${JSON.stringify(pkg, null, 2)}\n` }
  }
  return out
}
