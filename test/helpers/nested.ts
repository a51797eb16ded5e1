/**
 * A command line that runs `cmd` outside tap's process tracking. tap adds its loaders to
 * NODE_OPTIONS of every child process it sees (for coverage); a nested npm, tap or deployed app
 * must start as it would on its own, so env(1) removes them just before `cmd` starts.
 */
export function untracked(cmd: string, args: string[]): [string, string[]] {
  return ['env', ['-u', 'NODE_OPTIONS', '-u', '_TAPJS_PROCESSINFO_EXCLUDE_', cmd, ...args]]
}
