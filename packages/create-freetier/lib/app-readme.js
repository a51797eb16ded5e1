// @ts-check
import { runScript } from './package-manager.js'

/**
 * A section of a markdown text, from its `## ` heading to the next one (without it).
 * @param {string} markdown
 * @param {string} heading
 */
export function section(markdown, heading) {
  const start = markdown.indexOf(`\n## ${heading}\n`)
  if (start === -1) return undefined
  const end = markdown.indexOf('\n## ', start + 1)
  return markdown.slice(start + 1, end === -1 ? undefined : end).trim()
}

/**
 * The app's own README, in place of the template's front door: what it is, the two commands,
 * deploy, where the manual is; and the template's "Make it yours" (removing the example, adding
 * a resource), which is about the app.
 * @param {{ name: string, pm: string, redis: boolean, docs: boolean, templateReadme?: string }} app
 */
export function appReadme({ name, pm, redis, docs, templateReadme }) {
  const yours = templateReadme ? section(templateReadme, 'Make it yours') : undefined
  const install = pm === 'npm' ? 'npm install' : `${pm} install`
  const services = redis
    ? 'a web service, a Postgres database and a Key Value (Redis) instance'
    : 'a web service and a Postgres database'
  const manual = docs
    ? 'The manual is in [docs/](docs/): configuration, memory plan, cache, workers, database,\ndeploy, benchmarks and testing.'
    : 'The manual is in the freetier repository.'
  const start = `${install} && ${runScript(pm, 'start')}`
  const test = runScript(pm, 'test')
  const width = Math.max(start.length, test.length) + 2
  return `# ${name}

A Fastify 5 + Postgres${redis ? ' + Redis' : ''} app made with \`create-freetier\`, tuned to stay healthy in a
512 MB, 0.1-CPU container (Render's free web service).

## Start

\`\`\`sh
${start.padEnd(width)}# http://127.0.0.1:10000/healthz on an embedded Postgres
${test.padEnd(width)}# the unit and integration suite
\`\`\`

\`${runScript(pm, 'dev')}\` restarts on every change.
${yours ? `\n${yours}\n` : ''}
## Deploy

Push this repository to GitHub, then open
\`https://render.com/deploy?repo=<your repository's URL>\`: Render reads \`render.yaml\` and
creates ${services} on free plans.

${manual}
`
}
