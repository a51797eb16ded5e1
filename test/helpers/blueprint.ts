import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { parse } from 'yaml'
import { ROOT } from './process.js'

/** The parts of Render's Blueprint spec (render.yaml) that freetier uses. */
export interface EnvVarSpec {
  key?: string
  value?: string | number
  generateValue?: boolean
  sync?: boolean
  fromDatabase?: { name: string; property: string }
  fromService?: { type: string; name: string; property?: string; envVarKey?: string }
  fromGroup?: string
}

export interface ServiceSpec {
  type: string
  name: string
  plan?: string
  runtime?: string
  buildCommand?: string
  startCommand?: string
  healthCheckPath?: string
  envVars?: EnvVarSpec[]
  ipAllowList?: unknown[]
  maxmemoryPolicy?: string
}

export interface DatabaseSpec {
  name: string
  plan?: string
  ipAllowList?: unknown[]
}

export interface Blueprint {
  services?: ServiceSpec[]
  databases?: DatabaseSpec[]
}

export const BLUEPRINT_PATH = join(ROOT, 'render.yaml')
const SCHEMA_FILE = join('shared', 'render-blueprint.schema.json')

/**
 * Render's published JSON schema for render.yaml: reference data in a `shared/` directory beside
 * the clone (CI) or beside one of its parents (a worktree), never copied into the project.
 */
export function findSchema(from = ROOT): string | undefined {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, SCHEMA_FILE))) return join(dir, SCHEMA_FILE)
    if (dirname(dir) === dir) return undefined
  }
}

export function readBlueprint(path = BLUEPRINT_PATH): Blueprint {
  return parse(readFileSync(path, 'utf8')) as Blueprint
}

/** The blueprint's one web service (freetier deploys one). */
export function webService(blueprint: Blueprint): ServiceSpec {
  const webs = (blueprint.services ?? []).filter((s) => s.type === 'web')
  if (webs.length !== 1)
    throw new Error(`expected one web service in render.yaml, got ${webs.length}`)
  return webs[0] as ServiceSpec
}

/** What Render itself sets on a web service at runtime (PORT comes separately). */
export const PLATFORM_ENV = { RENDER: 'true', NODE_ENV: 'production' } as const

export interface References {
  /** fromDatabase: the value for a database property (connectionString, host, ...). */
  database(name: string, property: string): string
  /** fromService: the value for another service's property or variable. */
  service(type: string, name: string, property?: string): string
}

/**
 * The environment the blueprint gives a service: plain values, generated values (Render
 * generates a base64-encoded 256-bit value) and references resolved by the caller.
 */
export function blueprintEnv(service: ServiceSpec, refs: References): Record<string, string> {
  const env: Record<string, string> = {}
  for (const v of service.envVars ?? []) {
    if (v.key === undefined) throw new Error(`env var without a key: ${JSON.stringify(v)}`)
    if (v.value !== undefined) env[v.key] = String(v.value)
    else if (v.generateValue) env[v.key] = randomBytes(32).toString('base64')
    else if (v.fromDatabase)
      env[v.key] = refs.database(v.fromDatabase.name, v.fromDatabase.property)
    else if (v.fromService) {
      const { type, name, property } = v.fromService
      env[v.key] = refs.service(type, name, property)
    } else throw new Error(`${v.key}: no value the blueprint can provide (sync: false?)`)
  }
  return env
}

/** Problems with cross-references: every fromDatabase / fromService names something defined. */
export function referenceProblems(blueprint: Blueprint): string[] {
  const problems: string[] = []
  const databases = new Set((blueprint.databases ?? []).map((d) => d.name))
  const services = new Set((blueprint.services ?? []).map((s) => `${s.type}/${s.name}`))
  for (const service of blueprint.services ?? []) {
    for (const v of service.envVars ?? []) {
      if (v.fromDatabase && !databases.has(v.fromDatabase.name)) {
        problems.push(`${service.name}: ${v.key} refers to missing database ${v.fromDatabase.name}`)
      }
      const from = v.fromService
      if (from && !services.has(`${from.type}/${from.name}`)) {
        problems.push(`${service.name}: ${v.key} refers to missing ${from.type} ${from.name}`)
      }
    }
  }
  return problems
}

/**
 * Validates against Render's JSON schema (draft 2020-12). Returns the errors, or a reason why it
 * could not validate (the schema lives beside the repository, not in it).
 */
export function schemaErrors(
  blueprint: Blueprint,
  schemaPath = findSchema(),
): { errors: string[] } | { skip: string } {
  if (schemaPath === undefined) {
    return { skip: `no ${SCHEMA_FILE} beside ${ROOT} or its parents (reference data, not shipped)` }
  }
  const ajv = new Ajv2020({ allErrors: true, strict: false })
  const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')))
  validate(blueprint)
  return {
    errors: (validate.errors ?? []).map(
      (e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`,
    ),
  }
}
