/**
 * Dev mode only (`npm run dev` runs the TypeScript sources through tsx): the worker entry. tsx
 * registers itself in worker threads only on newer Node versions (not on Node 20), so this file
 * registers it in the worker when TypeScript does not load yet. Never part of the build: the
 * compiled app uses dist/src/workers/entry.js.
 */
async function loadEntry() {
  try {
    return await import('./entry.ts')
  } catch (error) {
    if (error?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error
    const { register } = await import('tsx/esm/api')
    register()
    // A new URL: the failed attempt stays cached under the old one.
    return await import('./entry.ts?tsx')
  }
}

const entry = await loadEntry()
export default entry.default
export const wake = entry.wake
