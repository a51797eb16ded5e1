import type { FastifyPluginAsync } from 'fastify'
import type { Test } from 'tap'
import { type App, type AppOptions, buildApp } from '../../src/app.js'
import items, { ITEMS_MIGRATIONS } from '../fixtures/items/index.js'
import { testConfig, testPlan } from './config.js'
import { fileDatabase, testDatabase } from './database.js'

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
  options: Pick<AppOptions, 'migrations' | 'now' | 'logger'> = {},
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
    ...options,
  })
  t.teardown(() => app.close())
  await app.ready()
  return app
}

/**
 * buildTestApp on the test file's one database (fileDatabase) instead of a fresh one, for tests
 * whose assertions never depend on rows (probes, headers, errors, limits, routes of their own
 * that touch no table). A fresh database is a CREATE DATABASE: ~0.3-0.5 s of Postgres's time
 * on a 2-core machine, and the suite made ~90 of them.
 */
export async function buildAppOnFileDatabase(
  t: Test,
  env: Record<string, string> = {},
  plugins: FastifyPluginAsync | FastifyPluginAsync[] = [],
  options: Pick<AppOptions, 'migrations' | 'now' | 'logger'> = {},
) {
  return buildTestApp(t, { DATABASE_URL: (await fileDatabase()).url, ...env }, plugins, options)
}

/**
 * buildTestApp with the infrastructure tests' own resource (test/fixtures/items: `PUT/GET
 * /items/:key`, `GET /items?limit=`) and only its migration, never the example's.
 */
export function buildItemsApp(
  t: Test,
  env: Record<string, string> = {},
  plugins: FastifyPluginAsync | FastifyPluginAsync[] = [],
) {
  return buildTestApp(t, env, [items, ...[plugins].flat()], { migrations: ITEMS_MIGRATIONS })
}

/** Stores one item through the API (as a client would). */
export async function putItem(app: App, key: string, value: string) {
  const res = await app.inject({ method: 'PUT', url: `/items/${key}`, payload: { value } })
  if (res.statusCode !== 200) throw new Error(`PUT /items/${key}: ${res.statusCode} ${res.body}`)
  return res.json() as { key: string; value: string }
}
