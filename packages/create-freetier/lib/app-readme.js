// @ts-check
import { runScript } from './package-manager.js'

/**
 * The app's own README, in place of the template's front door: what it is, the two commands,
 * deploy, where the manual is.
 * @param {{ name: string, pm: string, redis: boolean, docs: boolean }} app
 */
export function appReadme({ name, pm, redis, docs }) {
  const install = pm === 'npm' ? 'npm install' : `${pm} install`
  const services = redis
    ? 'a web service, a Postgres database and a Key Value (Redis) instance'
    : 'a web service and a Postgres database'
  const manual = docs
    ? 'The manual is in [docs/](docs/): configuration, memory plan, cache, workers, database,\ndeploy, benchmarks and testing.'
    : 'The manual is in the freetier repository.'
  return `# ${name}

A Fastify 5 + Postgres${redis ? ' + Redis' : ''} app made with \`create-freetier\`, tuned to stay healthy in a
512 MB, 0.1-CPU container (Render's free web service).

## Start

\`\`\`sh
${install} && ${runScript(pm, 'start')}   # http://127.0.0.1:10000/healthz on an embedded Postgres
${runScript(pm, 'test')}                    # the unit and integration suite
\`\`\`

\`${runScript(pm, 'dev')}\` restarts on every change. The example resource lives in \`src/notes/\`; keep it as a
pattern for your own, or delete it (its folder and its line in \`src/app.ts\`).

## Deploy

Push this repository to GitHub, then open
\`https://render.com/deploy?repo=<your repository's URL>\`: Render reads \`render.yaml\` and
creates ${services} on free plans.

${manual}
`
}
