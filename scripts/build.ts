/**
 * The production build (`npm run build`, after tsc has type-checked): one bundled ES module per
 * entry in dist/app/, laid out like src/, so a cold start resolves one module graph instead of
 * ~900 files. Run with tsx (it evaluates the schema modules).
 *
 *   inputs:  src/** (tests excluded), scripts/start.ts, package.json, package-lock.json
 *   outputs: dist/app/ (start.js: the bootstrap; server.js; workers/entry.js; one file per
 *            src/**\/*.task.ts; db/embedded-init.js; lazily loaded chunks; compile-cache/),
 *            nothing else
 *
 * - `schemas.ts` and `*.schemas.ts` modules are evaluated here and bundled as their JSON values,
 *   so TypeBox stays how schemas and types are written but is never loaded at run time. Such a
 *   module exports schemas, constants and schema builders (functions, for other schema modules).
 * - Kept out of the bundle and loaded from node_modules on first use: PGlite (development
 *   only) and piscina (finds its own worker file next to itself).
 * - The migrations' .sql files are read from src/ at run time (src/db/migrate.ts).
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { AjvCompiler, AjvReference } from '@fastify/ajv-compiler'
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild'
import fastJsonStringify from 'fast-json-stringify'
import type { CompileInput } from '../src/route-compilers.js'
import { BUILTIN, builtinsWithoutFacade, unusedBuiltinsOnFirstUse } from './build-start-up.js'
import { ioredisCommandsInDictionaryMode } from './build-start-up-redis.js' // redis-only
import { makeCompileCache } from './compile-cache.js'

/** Where the bundle goes; `--out <dir>` (inside the repository: it finds package.json above). */
const { values: args } = parseArgs({ options: { out: { type: 'string', default: 'dist/app' } } })
const OUT_DIR = args.out as string
const EXTERNAL = ['@electric-sql/pglite', '@electric-sql/pglite-socket', 'piscina', 'pg-native']
// The dependencies are CommonJS; in an ES module bundle their require() needs a real one.
const REQUIRE_SHIM =
  "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);"
const SCHEMAS_FILE = /(^|[/.])schemas\.ts$/

/** Evaluates a schemas module and emits its exports as JSON constants (no TypeBox at run time). */
const schemasAsJson: Plugin = {
  name: 'schemas-as-json',
  setup(build) {
    build.onLoad({ filter: SCHEMAS_FILE }, async ({ path }) => {
      const exports = (await import(pathToFileURL(path).href)) as Record<string, unknown>
      // Functions (schema builders such as src/schemas.ts's) run here only; run-time code that
      // imports one fails the build with esbuild's "No matching export".
      const lines = Object.entries(exports)
        .filter(([, value]) => typeof value !== 'function')
        .map(([name, value]) => {
          const json = JSON.stringify(value)
          if (json === undefined)
            throw new Error(`${relative('.', path)}: export ${name} is not JSON`)
          return `export const ${name} = ${json};`
        })
      return { contents: lines.join('\n'), loader: 'js' }
    })
  },
}

/**
 * The route schemas a production start compiles, recorded by building the app once
 * (scripts/record-route-schemas.ts, on the embedded database), then compiled here to code:
 * Ajv's standalone validators and fast-json-stringify's standalone serializers.
 */
async function precompileRouteSchemas(): Promise<string> {
  const scratch = await mkdtemp(join(tmpdir(), 'freetier-build-'))
  const run = spawnSync(
    process.execPath,
    [
      '--import',
      import.meta.resolve('tsx'),
      'scripts/record-route-schemas.ts',
      join(scratch, 'db'),
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  )
  await rm(scratch, { recursive: true, force: true })
  if (run.status !== 0) throw new Error(`build: recording the route schemas failed:\n${run.stderr}`)
  const inputs = JSON.parse(run.stdout) as CompileInput[]
  const entries = { validator: new Map<string, string>(), serializer: new Map<string, string>() }
  for (const input of inputs) {
    const made = entries[input.kind]
    if (made.has(input.key)) continue
    made.set(input.key, input.kind === 'validator' ? validatorCode(input) : serializerCode(input))
  }
  // Each entry evaluates its CommonJS code on first use; esbuild bundles what it requires.
  const table = (made: Map<string, string>) =>
    [...made].map(
      ([key, code]) => `${JSON.stringify(key)}: cjs((module, exports) => {\n${code}\n}),`,
    )
  return [
    'const cjs = (run) => () => { const module = { exports: {} }; run(module, module.exports); return module.exports }',
    'export const precompiled = {',
    '  validators: {',
    ...table(entries.validator),
    '  },',
    '  serializers: {',
    ...table(entries.serializer),
    '  },',
    '}',
  ].join('\n')
}

type AjvInstance = object
type CompiledValidator = object
// Ajv's type declarations describe this CommonJS module's default export as the module itself.
const standaloneCode = createRequire(import.meta.url)('ajv/dist/standalone') as (
  ajv: AjvInstance,
  validate: CompiledValidator,
) => string

function validatorCode(input: CompileInput): string {
  const options = (input.options ?? {}) as { customOptions?: object; plugins?: unknown[] }
  const compile = AjvCompiler()(
    input.externalSchemas as Record<string, AjvInstance>,
    {
      ...options,
      customOptions: { ...options.customOptions, code: { source: true } },
    } as Parameters<ReturnType<typeof AjvCompiler>>[1],
  )
  const validate = compile({ schema: input.schema } as Parameters<typeof compile>[0])
  // Set by @fastify/ajv-compiler when code generation is on: the Ajv instance that compiled it.
  const { ajv } = (compile as unknown as Record<symbol, { ajv: AjvInstance }>)[
    AjvReference as unknown as symbol
  ] as { ajv: AjvInstance }
  return standaloneCode(ajv, validate as CompiledValidator)
}

function serializerCode(input: CompileInput): string {
  return fastJsonStringify(
    input.schema as object,
    {
      ...(input.options as object | undefined),
      schema: input.externalSchemas as Record<string, object>,
      mode: 'standalone',
      inlineValidators: true,
    } as Parameters<typeof fastJsonStringify>[1],
  ) as unknown as string
}

/** Replaces the empty src/route-compilers.precompiled.ts with the build's compiled schemas. */
function precompiledRouteSchemas(contents: string): Plugin {
  return {
    name: 'precompiled-route-schemas',
    setup(build) {
      build.onLoad({ filter: /[/\\]route-compilers\.precompiled\.ts$/ }, () => ({
        contents,
        loader: 'js',
        resolveDir: process.cwd(),
      }))
    },
  }
}

async function filesUnder(dir: string, suffix: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(suffix))
    .map((e) => join(e.parentPath, e.name))
    .filter((path) => !path.split('/').includes('test'))
}

/** Problems with what went into the bundle, checked on esbuild's metafile. */
function checkBundle(metafile: Metafile): string[] {
  const problems: string[] = []
  for (const [output, { inputs, imports }] of Object.entries(metafile.outputs)) {
    const sources = Object.keys(inputs)
    if (imports.some((i) => i.kind === 'import-statement' && BUILTIN.has(i.path))) {
      problems.push(`${output} imports a Node built-in through its ES module facade`)
    }
    if (sources.some((s) => s.startsWith('node_modules/typebox/'))) {
      problems.push(`${output} contains typebox: keep schemas in schemas.ts modules`)
    }
    // src/modules.ts finds modules next to its own code: only at the root of dist/app.
    if (sources.includes('src/modules.ts') && relative(OUT_DIR, output).includes('/')) {
      problems.push(`${output} contains src/modules.ts below the bundle's root`)
    }
  }
  return problems
}

async function buildApp() {
  const tasks = await filesUnder('src', '.task.ts')
  const routeSchemas = await precompileRouteSchemas()
  const common: BuildOptions = {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    outdir: OUT_DIR,
    outbase: 'src',
    banner: { js: REQUIRE_SHIM },
    external: EXTERNAL,
    plugins: [
      schemasAsJson,
      precompiledRouteSchemas(routeSchemas),
      builtinsWithoutFacade,
      unusedBuiltinsOnFirstUse,
      ioredisCommandsInDictionaryMode, // redis-only
    ],
    metafile: true,
    logLevel: 'warning',
  }
  await rm(OUT_DIR, { recursive: true, force: true })
  const results = await Promise.all([
    build({
      ...common,
      entryPoints: ['src/server.ts', 'src/workers/entry.ts', 'src/db/embedded-init.ts', ...tasks],
      // Dynamic imports (the embedded database, test routes) stay separate, loaded on use.
      splitting: true,
      chunkNames: '[name]-[hash]',
    }),
    // The bootstrap alone: one small file, nothing shared with the server to load first.
    build({ ...common, entryPoints: { start: 'scripts/start.ts' } }),
  ])
  const problems = results.flatMap((r) => checkBundle(r.metafile as Metafile))
  if (problems.length > 0) throw new Error(`build: ${problems.join('\n')}`)
  // V8's compile cache, made here: the platform rebuilds the filesystem on each deploy, so a
  // cache made at run time would never survive a spin-down. Keyed by Node's version and V8
  // flags: the build must run on the Node that runs the app (render.yaml's NODE_VERSION is used
  // for both). The bootstrap, started without flags, runs the server with the plan's, as
  // render.yaml's start command gives them.
  makeCompileCache(OUT_DIR)
}

await buildApp()
