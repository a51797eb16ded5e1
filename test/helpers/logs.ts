import { Writable } from 'node:stream'

/** A stream for a pino logger that keeps every JSON line it is given, parsed. */
export function captureLogs() {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  return { lines, stream }
}
