import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import type * as AjvCompilerModule from '@fastify/ajv-compiler'
import type * as SerializerModule from '@fastify/fast-json-stringify-compiler'
import type { FastifyServerOptions } from 'fastify'
import { precompiled } from './route-compilers.precompiled.js'

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>
type Validate = ReturnType<ReturnType<NonNullable<CompilersFactory['buildValidator']>>>
type Serialize = ReturnType<ReturnType<NonNullable<CompilersFactory['buildSerializer']>>>

/**
 * Route validators and serializers made by the build (scripts/build.ts), each as a function that
 * evaluates its generated code, by the key of what it was compiled from.
 */
export interface Precompiled {
  validators: Readonly<Record<string, () => Validate>>
  serializers: Readonly<Record<string, () => Serialize>>
}

/** What one compilation needs: the build compiles each recorded one ahead of time. */
export interface CompileInput {
  kind: 'validator' | 'serializer'
  key: string
  schema: unknown
  externalSchemas: unknown
  options: unknown
}

export interface CompileCounts {
  precompiled: number
  compiled: number
}

/**
 * Fastify's own compilers, loaded on the first schema the build did not compile: loading Ajv
 * alone was ~10 ms of CPU at start, which a bundle whose schemas all came built never needs.
 */
const load = createRequire(import.meta.url)
const ajvCompiler = () => (load('@fastify/ajv-compiler') as typeof AjvCompilerModule).AjvCompiler()
const serializerCompiler = () =>
  (load('@fastify/fast-json-stringify-compiler') as typeof SerializerModule).SerializerSelector()

/**
 * Compiled here, by key: a second app in the same process (a test file builds dozens) reuses
 * the code instead of compiling it again; the key covers everything the code depends on.
 */
const compiledHere = new Map<string, unknown>()

/** Identifies a compilation by everything its code depends on. */
export function compileKey(schema: unknown, context: string): string {
  return createHash('sha256').update(context).update(JSON.stringify(schema)).digest('base64url')
}

/**
 * Fastify's schema compilers, looked up first in the build's precompiled table. Compiling route
 * schemas at start (Ajv with its meta-schema, fast-json-stringify) was ~70 ms of CPU, 0.7 s at
 * 0.1 CPU; evaluating the build's code is a few ms. A schema the build did not see (a route that
 * only some configuration registers, a test route, a schema edited since the build) is compiled
 * here as Fastify would, so a stale table costs time, never correctness. `onCompile` sees each
 * of those (the build records them).
 */
export function routeCompilers(
  table: Precompiled = precompiled,
  onCompile?: (input: CompileInput) => void,
) {
  const counts: CompileCounts = { precompiled: 0, compiled: 0 }
  /** One of Fastify's two compiler factories, looking each schema up before compiling it. */
  const precompiledFirst = <Made>(
    kind: CompileInput['kind'],
    made: Readonly<Record<string, () => Made>>,
    compilers: () => (externalSchemas: never, options: never) => (route: never) => Made,
  ) => {
    return (externalSchemas: unknown, options: unknown) => {
      const context = `${kind} ${JSON.stringify(externalSchemas)} ${JSON.stringify(options)}`
      let compile: ((route: never) => Made) | undefined
      return (route: { schema: unknown }): Made => {
        const key = compileKey(route.schema, context)
        const built = made[key]
        if (built) {
          counts.precompiled++
          return built()
        }
        counts.compiled++
        onCompile?.({ kind, key, schema: route.schema, externalSchemas, options })
        const again = compiledHere.get(key) as Made | undefined
        if (again) return again
        compile ??= compilers()(externalSchemas as never, options as never)
        const code = compile(route as never)
        compiledHere.set(key, code)
        return code
      }
    }
  }
  const compilersFactory = {
    buildValidator: precompiledFirst('validator', table.validators, ajvCompiler),
    buildSerializer: precompiledFirst('serializer', table.serializers, serializerCompiler),
  } as unknown as CompilersFactory
  return { compilersFactory, counts }
}
