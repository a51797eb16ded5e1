/** The baselines every run measures beside the app: same Node, same box, same /healthz body. */
export const BASELINES = {
  http: { label: 'bare node:http', script: 'baseline-http.js' },
  fastify: { label: 'bare Fastify', script: 'baseline-fastify.js' },
} as const
