import { spawn } from 'node:child_process'
import { join } from 'node:path'
import type { LoadEvent, LoadResult, LoadSpec } from './load-spec.js'

export interface LoadHooks {
  /** The measured part starts, after the warm-up (its figures, when there was one). */
  onStart(warmup: LoadResult | undefined): void
  /** Once a second: responses so far in the measured part. */
  onTick(responses: number): void
}

/** Runs the load generator in its own process (pinned to `cpu`, outside any box), resolves with its result. */
export function runLoad(
  spec: LoadSpec,
  cpu: string | undefined,
  hooks: LoadHooks,
): Promise<LoadResult> {
  const worker = join(import.meta.dirname, 'load-worker.js')
  const command = [process.execPath, worker]
  const [file, ...args] = cpu === undefined ? command : ['taskset', '-c', cpu, ...command]
  const child = spawn(file as string, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  child.stdin.end(JSON.stringify(spec))
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (data: string) => {
    stderr = (stderr + data).slice(-4000)
  })
  return new Promise((resolve, reject) => {
    let result: LoadResult | undefined
    let failure: string | undefined
    let buffered = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (data: string) => {
      buffered += data
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        if (!line.startsWith('{')) continue
        const event = JSON.parse(line) as LoadEvent
        if (event.event === 'start') hooks.onStart(event.warmup)
        else if (event.event === 'tick') hooks.onTick(event.responses)
        else if (event.event === 'done') result = event.result
        else failure = event.message
      }
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      if (result) resolve(result)
      else reject(new Error(`load generator failed (exit ${code}): ${failure ?? stderr}`))
    })
  })
}
