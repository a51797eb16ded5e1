// @ts-check
/** render.yaml and .env.example, adapted to the app: its name, its package manager, Redis or not. */

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
 * .env.example without the REDIS_* variables and the comment lines that explain them.
 * @param {string} text
 */
export function envExampleWithoutRedis(text) {
  const out = []
  for (const line of text.split('\n')) {
    if (/^#?\s*REDIS_[A-Z_]+=/.test(line)) {
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

/**
 * Rewrites the web service's `buildCommand` (one line, or a folded block scalar) with `change`.
 * @param {string} yaml
 * @param {(command: string) => string} change
 */
export function rewriteBuildCommand(yaml, change) {
  const lines = yaml.split('\n')
  const at = lines.findIndex((line) => /^\s*(- )?buildCommand:/.test(line))
  if (at === -1) throw new Error('render.yaml has no buildCommand')
  const head = /^(\s*(?:- )?)buildCommand:\s*(.*)$/.exec(lines[at] ?? '')
  const indent = head?.[1] ?? ''
  let value = head?.[2] ?? ''
  let end = at + 1
  if (/^[>|][-+]?$/.test(value)) {
    // A block scalar: the more-indented lines that follow, joined as a shell sees them.
    const body = []
    while (end < lines.length && /^\s*$|^\s+/.test(lines[end] ?? '')) {
      const line = lines[end] ?? ''
      if (line.trim() !== '' && line.length - line.trimStart().length <= indent.length) break
      body.push(line.trim())
      end++
    }
    while (body.at(-1) === '') body.pop()
    value = body.join(value.startsWith('|') ? '\n' : ' ')
  } else if (/^["']/.test(value)) {
    value = JSON.parse(
      value.startsWith("'") ? `"${value.slice(1, -1).replace(/"/g, '\\"')}"` : value,
    )
  }
  lines.splice(at, end - at, `${indent}buildCommand: ${change(value)}`)
  return lines.join('\n')
}
