import type { Test } from 'tap'
import { type App, buildApp } from '../../src/app.js'
import { testConfig, testPlan } from './config.js'
import { testDatabase } from './database.js'

/**
 * Builds the app in-process (no listen) and closes it when the test ends. Without a
 * DATABASE_URL in env it gets a fresh database of its own (see testDatabase), migrated at build.
 */
export async function buildTestApp(
  t: Test,
  env: Record<string, string> = {},
  /** Adds test-only routes before the app is ready. */
  extend?: (app: App) => void,
) {
  const database =
    env.DATABASE_URL === undefined
      ? { DATABASE_URL: (await testDatabase(t)).url }
      : ({} as Record<string, string>)
  const config = testConfig({ ...env, ...database })
  const app = await buildApp({ config, plan: testPlan(config), logger: false })
  t.teardown(() => app.close())
  extend?.(app)
  await app.ready()
  return app
}
