import type { Test } from 'tap'
import { type App, buildApp } from '../../src/app.js'
import { testConfig, testPlan } from './config.js'

/** Builds the app in-process (no listen) and closes it when the test ends. */
export async function buildTestApp(
  t: Test,
  env: Record<string, string> = {},
  /** Adds test-only routes before the app is ready. */
  extend?: (app: App) => void,
) {
  const config = testConfig(env)
  const app = await buildApp({ config, plan: testPlan(config), logger: false })
  t.teardown(() => app.close())
  extend?.(app)
  await app.ready()
  return app
}
