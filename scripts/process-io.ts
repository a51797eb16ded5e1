import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'

/** Process plumbing the bench harness and the process tests share. */

export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/** Calls `onLine` for every complete stdout and stderr line of `child`, then `onChunk`. */
export function eachLine(
  child: ChildProcess,
  onLine: (line: string) => void,
  onChunk?: () => void,
) {
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = ''
    stream?.setEncoding('utf8')
    stream?.on('data', (data: string) => {
      buffered += data
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) onLine(line)
      onChunk?.()
    })
  }
}
