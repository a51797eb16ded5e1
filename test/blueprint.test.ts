import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { loadConfig } from '../src/config.js'
import { planMemory, v8Flags } from '../src/memory.js'
import { buildTestApp } from './helpers/app.js'
import {
  blueprintEnv,
  PLATFORM_ENV,
  readBlueprint,
  referenceProblems,
  schemaErrors,
  webService,
} from './helpers/blueprint.js'
import { ROOT } from './helpers/process.js'

const blueprint = readBlueprint()
const web = webService(blueprint)
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
/** The memory of Render's free web service. */
const FREE_PLAN_MB = 512
/** Stand-ins for what Render fills in: the app only needs their shape. */
const refs = {
  database: (name: string, property: string) => `postgresql://${name}:secret@dpg-${property}/app`,
  service: (type: string, name: string) => `redis://${type}-${name}:6379`,
}

const schema = schemaErrors(blueprint)
t.test(
  "render.yaml uses only fields Render's schema defines",
  { skip: 'skip' in schema ? schema.skip : false },
  async (t) => {
    t.same('errors' in schema && schema.errors, [], 'no schema errors')
  },
)

t.test('every reference resolves and every plan is free', async (t) => {
  t.same(referenceProblems(blueprint), [])
  for (const item of [...(blueprint.services ?? []), ...(blueprint.databases ?? [])]) {
    t.equal(item.plan, 'free', `${item.name} is on the free plan`)
  }
  for (const db of blueprint.databases ?? []) {
    t.same(db.ipAllowList, [], `${db.name}: private network only`)
  }
  for (const kv of (blueprint.services ?? []).filter((s) => s.type === 'keyvalue')) {
    t.same(kv.ipAllowList, [], `${kv.name}: private network only`)
    t.equal(kv.maxmemoryPolicy, 'allkeys-lru', `${kv.name}: a cache that evicts when full`)
  }
})

t.test('the blueprint provides every variable the app requires in production', async (t) => {
  const env = blueprintEnv(web, refs)
  t.throws(() => loadConfig({ ...PLATFORM_ENV, PORT: '10000' }), 'production requires more')
  const config = loadConfig({ ...PLATFORM_ENV, PORT: '10000', ...env })
  t.equal(config.isProduction, true)
  t.equal(config.host, '0.0.0.0', 'binds all interfaces, as Render requires')
  t.equal(config.trustProxy, 2, 'trusts Cloudflare and Render proxy hops')
  t.ok(config.STATUS_TOKEN, '/status is protected by a generated token')
  for (const key of Object.keys(env)) {
    if (key === 'NODE_VERSION') continue // read by Render to choose Node, not by the app
    t.equal((config as unknown as Record<string, unknown>)[key], env[key], `the app reads ${key}`)
  }
})

t.test('Node version, build and start commands match the project', async (t) => {
  const nodeVersion = web.envVars?.find((v) => v.key === 'NODE_VERSION')?.value
  t.ok(nodeVersion, 'NODE_VERSION is pinned (the platform default drifts)')
  const floor = Number(/>=\s*(\d+)/.exec(pkg.engines.node)?.[1])
  t.ok(
    Number.parseInt(String(nodeVersion), 10) >= floor,
    `${nodeVersion} satisfies ${pkg.engines.node}`,
  )
  t.equal(
    readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim(),
    String(nodeVersion),
    '.nvmrc pins the same Node as render.yaml',
  )
  t.equal(web.runtime, 'node')
  // Whatever the package manager (an app made with --pm has its own): install first, dev
  // dependencies included (the build needs TypeScript even if NODE_ENV=production is set),
  // then the build script.
  const steps = (web.buildCommand ?? '').split(/\s*&&\s*/)
  t.match(steps[0], /\b(ci|install)\b/, 'the build command installs first')
  if (/^npm /.test(steps[0] ?? '')) t.match(steps[0], /--include=dev/, 'with dev dependencies')
  const build = steps.findIndex((step) => /\brun build$/.test(step))
  t.ok(build > 0, 'a step runs the build script')
  // Then development dependencies leave: the deploy keeps only what production imports (npm
  // and pnpm; yarn and bun have no prune that keeps the build).
  if (/\b(npm|pnpm)\b/.test(steps[0] ?? '')) {
    t.match(steps[build + 1], /\bprune\b/, 'the build prunes development dependencies after it')
  }
  t.ok(pkg.scripts.build, 'package.json has the build script')
  const start = /^node ((?:--\S+ )*)(\S+)$/.exec(web.startCommand ?? '')
  t.ok(start, 'the start command runs node directly (no npm process in between)')
  // `npm run build` bundles scripts/start.ts there (scripts/build.ts); the deploy rehearsal
  // (test/deploy.test.ts) runs the build and this command for real.
  t.equal(start?.[2], 'dist/app/start.js', "the start command runs the bundle's bootstrap")
  t.same(
    start?.[1]?.trim().split(' '),
    v8Flags(planMemory({ envLimitMb: FREE_PLAN_MB })),
    "with the memory plan's flags for the free plan's 512 MB (no second Node start)",
  )
  t.match(pkg.scripts.build, /scripts\/build\.ts/, 'the build makes the bundle')
  t.ok(existsSync(join(ROOT, 'scripts', 'start.ts')), 'the bootstrap it bundles exists')
})

t.test('the health check path answers 200 without touching dependencies', async (t) => {
  t.ok(web.healthCheckPath, 'healthCheckPath is set (deploys wait for it)')
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: web.healthCheckPath ?? '/' })
  t.equal(res.statusCode, 200)
})
