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
 * Every scenario `npm run bench` runs, in order. A module of the app adds its own here (one
 * line, like its registration in src/app.ts); remove the line with the module.
 */
export const SCENARIOS: readonly Scenario[] = [healthz, ...notes]
