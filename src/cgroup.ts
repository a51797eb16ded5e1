import { readFileSync } from 'node:fs'

/** A cgroup file's text, or undefined where it does not exist (or cannot be read). */
export function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/**
 * This process's cgroup path in each version for one controller, from /proc/self/cgroup:
 * `0::/path` (v2) and `N:...<controller>...:/path` (v1). A box made by scripts/box.ts is such a
 * path, not the root.
 */
export function ownCgroupPaths(
  procCgroup: string | undefined,
  controller: 'memory' | 'cpu',
): { v1: string; v2: string } {
  const paths = { v1: '/', v2: '/' }
  for (const line of procCgroup?.split('\n') ?? []) {
    const [id, controllers, path] = line.split(':')
    if (path === undefined) continue
    if (id === '0' && controllers === '') paths.v2 = path
    else if (controllers?.split(',').includes(controller)) paths.v1 = path
  }
  return paths
}
