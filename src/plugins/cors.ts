import fastifyCors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Cross-origin access, opt-in: only the origins in CORS_ORIGINS may call the API from a browser
 * (preflights included); with none listed nothing is registered and browsers keep to the
 * same-origin policy, at no cost per request.
 */
async function cors(app: FastifyInstance) {
  const origins = app.config.corsOrigins
  if (origins.length === 0) return
  await app.register(fastifyCors, {
    origin: origins,
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    // Browsers cache a preflight for this long (seconds), sparing one request per call.
    maxAge: 600,
    exposedHeaders: ['x-cache', 'retry-after'],
  })
}

export default fp(cors, { name: 'cors' })
