/**
 * Part of the production build (scripts/build.ts runs it with tsx): builds the app as production
 * does, on the embedded database in a scratch directory, and prints as JSON every route schema
 * Fastify compiled on the way (src/route-compilers.ts), for the build to compile ahead of time.
 *
 *   usage: record-route-schemas <scratch dir>
 */
import { rm } from 'node:fs/promises'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { startEmbedded } from '../src/db/embedded.js'
import { planMemory } from '../src/memory.js'
import type { CompileInput } from '../src/route-compilers.js'

const scratch = process.argv[2]
if (!scratch) throw new Error('usage: record-route-schemas <scratch dir>')

const embedded = await startEmbedded({ dataDir: scratch })
const recorded: CompileInput[] = []
try {
  // The production configuration, as render.yaml leaves it: what a deploy registers.
  const config = loadConfig({ NODE_ENV: 'production', DATABASE_URL: embedded.url })
  const app = await buildApp({
    config,
    plan: planMemory({ envLimitMb: undefined }),
    logger: false,
    onCompile: (input) => recorded.push(input),
  })
  await app.ready()
  await app.close()
} finally {
  await embedded.stop()
  await rm(scratch, { recursive: true, force: true })
}
process.stdout.write(JSON.stringify(recorded))
