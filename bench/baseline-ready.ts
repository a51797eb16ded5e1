/**
 * What both baselines do once listening, the start-up steps of the app that matter for the
 * comparison: one full GC when --expose-gc is given, the same "ready" line, a clean exit on
 * SIGTERM/SIGINT.
 */
export function ready(name: string, close: () => Promise<void>): void {
  const gc = (globalThis as { gc?: () => void }).gc
  setImmediate(() => {
    gc?.()
    process.stdout.write(
      `${name}: ready (after post-start gc${gc ? '' : ': none, no --expose-gc'})\n`,
    )
  })
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void close().then(() => process.exit(0))
    })
  }
}

export const HOST = process.env.HOST ?? '127.0.0.1'
export const PORT = Number(process.env.PORT ?? 3000)
