import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface PackageInfo {
  name: string
  version: string
  root: string
}

let cached: PackageInfo | undefined

/** The app's package.json, found upwards from this file (src/ in dev, dist/src/ when built). */
export function packageInfo(): PackageInfo {
  if (cached) return cached
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('package.json not found above the app')
    dir = parent
  }
  const { name, version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  cached = { name, version, root: dir }
  return cached
}
