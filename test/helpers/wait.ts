import { setTimeout as sleep } from 'node:timers/promises'

/**
 * How long a wait for a state, a log line or an exit may last before the test fails as stuck.
 * Not a speed bound: on a busy 2-core machine a healthy process can take tens of seconds to
 * start; only a broken one never gets there.
 */
export const STUCK_MS = 120_000

/** Polls until `check` holds (tests wait for states, not for fixed times); throws if stuck. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = STUCK_MS,
) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

/** Polls until `check` holds and says whether it did, for `t.ok(await eventually(...))`. */
export async function eventually(check: () => Promise<boolean>, ms = STUCK_MS): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return true
    await sleep(20)
  }
  return check()
}
