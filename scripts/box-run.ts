/**
 * Runs one command inside the free-tier box and prints what the box saw when it ends:
 *
 *   npm run box -- [--cpu 0.1] [--memory 512] -- node dist/scripts/start.js
 *
 * Signals (Ctrl-C, SIGTERM) are passed on to the command; the exit code is the command's.
 */
import { constants } from 'node:os'
import { parseArgs } from 'node:util'
import { Box, FREE_TIER } from './box.js'

const USAGE = 'usage: box [--cpu 0.1] [--memory 512] -- <command> [args...]'

function fail(message: string): never {
  process.stderr.write(`box: ${message}\n${USAGE}\n`)
  process.exit(2)
}

let parsed: ReturnType<typeof parse>
function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      cpu: { type: 'string', default: String(FREE_TIER.cpus) },
      memory: { type: 'string', default: String(FREE_TIER.memoryMb) },
    },
  })
}
try {
  parsed = parse()
} catch (error) {
  fail((error as Error).message)
}
const [command, ...args] = parsed.positionals
if (command === undefined) fail('no command given')
const cpus = Number(parsed.values.cpu)
const memoryMb = Number(parsed.values.memory)

let box: Box
try {
  box = Box.create({ cpus, memoryMb })
} catch (error) {
  fail((error as Error).message)
}
process.stderr.write(`box: ${box.version} cgroup ${box.name}: ${cpus} CPU, ${memoryMb} MB\n`)
const child = box.spawn(command, args, { stdio: 'inherit' })
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => child.kill(signal))
}
child.on('exit', async (code, signal) => {
  const stats = box.stats()
  await box.remove()
  const mb = (bytes: number | undefined) =>
    bytes === undefined ? '?' : `${(bytes / 1048576).toFixed(1)} MB`
  const cpu =
    stats.cpuUsageMicros === undefined ? '?' : `${(stats.cpuUsageMicros / 1000).toFixed(0)} ms`
  process.stderr.write(
    `box: exit ${signal ?? code}; peak memory ${mb(stats.memoryPeakBytes)}, CPU ${cpu}, ` +
      `OOM kills ${stats.oomKills}, throttled periods ${stats.throttledPeriods ?? '?'}\n`,
  )
  process.exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0)
})
