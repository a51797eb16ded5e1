/**
 * The benchmark harness (`npm run bench`): see bench/args.ts for the flags and the
 * README's bench section for what it measures and how. The run itself is imported only once the
 * arguments are valid, so `--help` and a usage error load nothing else.
 */
import { HELP, parseBenchArgs, UsageError } from './args.js'

async function main(): Promise<number> {
  let options: ReturnType<typeof parseBenchArgs>
  try {
    options = parseBenchArgs(process.argv.slice(2), process.env)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`bench: ${error.message}\n\n${HELP}`)
    return 2
  }
  if (options.help) {
    process.stdout.write(HELP)
    return 0
  }
  const { runBench } = await import('./main.js')
  return runBench(options)
}

process.exitCode = await main()
