import type { FastifyPluginAsync } from 'fastify'
import type { Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { testConfig, testPlan } from './config.js'
import { testDatabase } from './database.js'

/**
 * Builds the app in-process (no listen) and closes it when the test ends. Without a
 * DATABASE_URL in env it gets a fresh database of its own (see testDatabase), migrated at build.
 * `plugins` are the test's own routes, registered after the infrastructure:
 *
 *   const app = await buildTestApp(t, {}, async (app) => { app.get('/x', async () => 'ok') })
 */
export async function buildTestApp(
  t: Test,
  env: Record<string, string> = {},
  plugins: FastifyPluginAsync | FastifyPluginAsync[] = [],
) {
  const database =
    env.DATABASE_URL === undefined
      ? { DATABASE_URL: (await testDatabase(t)).url }
      : ({} as Record<string, string>)
  const config = testConfig({ ...env, ...database })
  const app = await buildApp({
    config,
    plan: testPlan(config),
    logger: false,
    plugins: [plugins].flat(),
  })
  t.teardown(() => app.close())
  await app.ready()
  return app
}
