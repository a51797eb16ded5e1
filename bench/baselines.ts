/** The baselines measured beside the app: same Node, same box, same /healthz body. */
export const BASELINES = {
  http: { label: 'bare node:http', script: 'baseline-http.js' },
  fastify: { label: 'bare Fastify', script: 'baseline-fastify.js' },
  /** For scenarios with `sameResponses`: the app's own responses, recorded, sent again. */
  replay: { label: 'bare Fastify, same responses', script: 'baseline-replay.js' },
} as const
