import { createHash } from 'node:crypto'
import { AjvCompiler } from '@fastify/ajv-compiler'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import type { FastifyServerOptions } from 'fastify'
import { precompiled } from './route-compilers.precompiled.js'

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>
type ValidatorFactory = NonNullable<CompilersFactory['buildValidator']>
type SerializerFactory = NonNullable<CompilersFactory['buildSerializer']>
type Validate = ReturnType<ReturnType<ValidatorFactory>>
type Serialize = ReturnType<ReturnType<SerializerFactory>>

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
  const buildValidator: ValidatorFactory = (externalSchemas, options) => {
    const context = `validator ${JSON.stringify(externalSchemas)} ${JSON.stringify(options)}`
    let compile: ReturnType<ValidatorFactory> | undefined
    return (route) => {
      const key = compileKey(route.schema, context)
      const made = table.validators[key]
      if (made) {
        counts.precompiled++
        return made()
      }
      counts.compiled++
      onCompile?.({ kind: 'validator', key, schema: route.schema, externalSchemas, options })
      compile ??= AjvCompiler()(externalSchemas, options)
      return compile(route)
    }
  }
  const buildSerializer: SerializerFactory = (externalSchemas, options) => {
    const context = `serializer ${JSON.stringify(externalSchemas)} ${JSON.stringify(options)}`
    let compile: ReturnType<SerializerFactory> | undefined
    return (route) => {
      const key = compileKey(route.schema, context)
      const made = table.serializers[key]
      if (made) {
        counts.precompiled++
        return made()
      }
      counts.compiled++
      onCompile?.({ kind: 'serializer', key, schema: route.schema, externalSchemas, options })
      compile ??= SerializerSelector()(externalSchemas, options)
      return compile(route)
    }
  }
  return { compilersFactory: { buildValidator, buildSerializer }, counts }
}
