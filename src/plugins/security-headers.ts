import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * The headers a JSON API needs (OWASP's REST Security Cheat Sheet), with helmet's values, fixed
 * once. helmet's others (Cross-Origin-Opener-Policy, Origin-Agent-Cluster, X-DNS-Prefetch-Control,
 * X-Download-Options, X-Permitted-Cross-Domain-Policies, X-XSS-Protection) only mean something
 * for an HTML document, and each header costs CPU on every response (Node validates it).
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none';frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
}

/**
 * Security headers on every response, set for a JSON API: a policy that lets nothing load or
 * frame a response (`default-src 'none'; frame-ancestors 'none'`), no MIME sniffing, no
 * referrer, same-origin resource policy, HSTS (TLS ends at Render's edge, every public request
 * is HTTPS). A route that serves a page sets its own Content-Security-Policy (the notes' HTML
 * view does). SECURITY_HEADERS=false switches them off.
 *
 * Not @fastify/helmet: it builds its headers again for every request, ~40 µs of CPU per cached
 * read here (more than the rest of the read), for values that never change.
 */
async function securityHeaders(app: FastifyInstance) {
  if (!app.config.SECURITY_HEADERS) return
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(SECURITY_HEADERS)
    done()
  })
}

export default fp(securityHeaders, { name: 'security-headers' })
