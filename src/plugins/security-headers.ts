import helmet from '@fastify/helmet'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Security headers on every response (@fastify/helmet), set for a JSON API: a policy that lets
 * nothing load or frame a response (`default-src 'none'; frame-ancestors 'none'`), no MIME
 * sniffing, no referrer, same-origin resource policy, HSTS (TLS ends at Render's edge, every
 * public request is HTTPS). A route that serves a page sets its own Content-Security-Policy
 * (the notes' HTML view does). SECURITY_HEADERS=false switches them off.
 */
async function securityHeaders(app: FastifyInstance) {
  if (!app.config.SECURITY_HEADERS) return
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
    referrerPolicy: { policy: 'no-referrer' },
  })
}

export default fp(securityHeaders, { name: 'security-headers' })
