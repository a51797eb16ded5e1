import { createHash } from 'node:crypto'
import type { FastifyInstance, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { packageInfo } from '../package-info.js'

type RouteDefinition = Pick<RouteOptions, 'method' | 'url' | 'schema'>

/** An interactive page for the document, development only: Swagger UI from a CDN, no package. */
const UI_SCRIPT = "SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui' })"
const UI_CDN = 'https://cdn.jsdelivr.net/npm/swagger-ui-dist@5'
const UI_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>${packageInfo().name} API</title>
<link rel="stylesheet" href="${UI_CDN}/swagger-ui.css"></head>
<body><div id="ui"></div><script src="${UI_CDN}/swagger-ui-bundle.js"></script>
<script>${UI_SCRIPT}</script></body></html>
`

/**
 * Builds the OpenAPI 3.1 document from the routes' own schemas with @fastify/swagger, in a
 * throwaway instance that only describes them (no validators or serializers compiled). Done on
 * the first request for it, so neither the library nor the work counts against the cold start.
 */
async function buildDocument(routes: readonly RouteDefinition[]) {
  const [{ default: Fastify }, { default: swagger }] = await Promise.all([
    import('fastify'),
    import('@fastify/swagger'),
  ])
  const describer = Fastify({ logger: false })
  describer.setValidatorCompiler(() => () => true)
  describer.setSerializerCompiler(() => (data) => JSON.stringify(data))
  const { name, version } = packageInfo()
  await describer.register(swagger, {
    openapi: { openapi: '3.1.0', info: { title: name, version } },
  })
  describer.after(() => {
    for (const { method, url, schema } of routes) {
      describer.route({ method, url, schema: schema ?? {}, handler: async () => null })
    }
  })
  await describer.ready()
  const document = describer.swagger()
  await describer.close()
  return document
}

/**
 * `GET /openapi.json`: the API described from the schemas the routes already validate and
 * serialize with, every route included. In development, `GET /docs` shows it in Swagger UI.
 * Registered before the routes: it records each one as it is added (cheap), and describes them
 * only when asked.
 */
async function openapi(app: FastifyInstance) {
  const routes: RouteDefinition[] = []
  app.addHook('onRoute', (route) => {
    // Fastify adds a HEAD route for each GET; the document lists the GET.
    if (route.method !== 'HEAD')
      routes.push({ method: route.method, url: route.url, schema: route.schema })
  })
  let document: Promise<unknown> | undefined

  app.get(
    '/openapi.json',
    {
      config: { shedding: false },
      schema: {
        summary: 'This document: the API in OpenAPI 3.1',
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async () => {
      document ??= buildDocument(routes).catch((error: unknown) => {
        document = undefined
        throw error
      })
      return document
    },
  )

  if (!app.config.isProduction) {
    const scriptHash = createHash('sha256').update(UI_SCRIPT).digest('base64')
    app.get(
      '/docs',
      {
        schema: {
          summary: 'Swagger UI for /openapi.json (development only)',
          response: { 200: { type: 'string', description: 'an HTML page (text/html)' } },
        },
      },
      async (_request, reply) =>
        reply
          .type('text/html; charset=utf-8')
          .header(
            'content-security-policy',
            `default-src 'none'; script-src ${UI_CDN}/ 'sha256-${scriptHash}'; style-src ${UI_CDN}/; img-src data: ${UI_CDN}/; connect-src 'self'`,
          )
          .send(UI_PAGE),
    )
  }
}

export default fp(openapi, { name: 'openapi' })
