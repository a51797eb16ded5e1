import notes from '../src/notes/bench.js'
import { answers, type Scenario } from './scenario.js'

/** The smallest route: what the platform's health check calls, and what the baselines serve. */
export const healthz: Scenario = {
  name: 'healthz',
  title: '/healthz',
  how: 'GET /healthz: the smallest route; the baselines serve the same body',
  prepare: async (ctx) => {
    const missing = await answers(ctx, '/healthz')
    return missing
      ? { skip: missing }
      : { mix: [{ weight: 1, method: 'GET', paths: ['/healthz'] }] }
  },
  soakWeight: 1,
}

/**
 * The OpenAPI document: the first request builds it (its time is in the report's `how`), the
 * rest serve it from memory. Last of the app's scenarios, so the others run without it built.
 */
export const openapi: Scenario = {
  name: 'openapi',
  title: 'GET /openapi.json',
  how: 'GET /openapi.json, the document built by the first request',
  prepare: async (ctx) => {
    const started = performance.now()
    const missing = await answers(ctx, '/openapi.json')
    if (missing) return { skip: missing }
    const firstMs = Math.round(performance.now() - started)
    return {
      mix: [{ weight: 1, method: 'GET', paths: ['/openapi.json'] }],
      how: `GET /openapi.json; the first request, which built the document, took ${firstMs} ms`,
    }
  },
}

/**
 * Every scenario `npm run bench` runs, in order. A module of the app adds its own here (one
 * line, like its registration in src/app.ts); remove the line with the module.
 */
export const SCENARIOS: readonly Scenario[] = [healthz, ...notes, openapi]
