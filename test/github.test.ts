/**
 * The GitHub files cannot run here: the workflow is checked against the schema GitHub's runner
 * accepts (action-validator, which carries SchemaStore's workflow schema, offline) and against
 * what this project needs from it; dependabot.yml against the documented options (no npm
 * package carries its schema for offline use, so the subset this project uses is written here).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { validateWorkflow } from '@action-validator/core'
import { Ajv } from 'ajv'
import t from 'tap'
import { parse } from 'yaml'
import { ROOT } from './helpers/process.js'

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8')

t.test('the validator refuses a broken workflow (it can fail)', async (t) => {
  const broken = 'on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps: run npm test\n'
  t.ok(validateWorkflow(broken).errors.length > 0)
})

t.test('.github/workflows/ci.yml is a valid workflow that runs the suite', async (t) => {
  const source = read('.github/workflows/ci.yml')
  t.same(validateWorkflow(source).errors, [], 'valid against the workflow schema')

  const workflow = parse(source)
  const job = workflow.jobs.test
  const floor = Number(/>=\s*(\d+)/.exec(JSON.parse(read('package.json')).engines.node)?.[1])
  const pinned = Number(read('.nvmrc').trim())
  const versions: number[] = job.strategy.matrix.node
  t.ok(versions.includes(floor), `the oldest supported Node (${floor}) is tested`)
  t.ok(versions.includes(pinned), `the pinned Node (${pinned}) is tested`)
  t.same(
    versions,
    [...versions].sort((a, b) => a - b),
    'versions listed in order',
  )
  t.match(job.services, { postgres: { image: /^postgres:/ }, redis: { image: /^redis:/ } })
  t.equal(job.env.REQUIRE_SERVICES, '1', 'a missing service fails rather than skips')
  const runs = job.steps.map((step: { run?: string }) => step.run).filter(Boolean)
  for (const command of ['npm ci', 'npm run lint', 'npm test']) {
    t.ok(runs.includes(command), `runs ${command}`)
  }
  const setupNode = job.steps.find((s: { uses?: string }) =>
    s.uses?.startsWith('actions/setup-node'),
  )
  t.match(setupNode?.with?.['node-version'], /^\$\{\{ matrix\.node \}\}$/)
})

// The documented options (version 2), as far as this project may use them.
const INTERVALS = ['daily', 'weekly', 'monthly', 'quarterly', 'semiannually', 'yearly', 'cron']
const ECOSYSTEMS = [
  ...['bun', 'bundler', 'cargo', 'composer', 'devcontainers', 'docker', 'docker-compose'],
  ...['dotnet-sdk', 'elm', 'gitsubmodule', 'github-actions', 'gomod', 'gradle', 'helm'],
  ...['maven', 'mix', 'npm', 'nuget', 'pip', 'pub', 'swift', 'terraform', 'uv'],
]
const DEPENDABOT_SCHEMA = {
  type: 'object',
  required: ['version', 'updates'],
  additionalProperties: false,
  properties: {
    version: { const: 2 },
    registries: { type: 'object' },
    'enable-beta-ecosystems': { type: 'boolean' },
    updates: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['package-ecosystem', 'schedule'],
        oneOf: [{ required: ['directory'] }, { required: ['directories'] }],
        additionalProperties: false,
        properties: {
          'package-ecosystem': { enum: ECOSYSTEMS },
          directory: { type: 'string', pattern: '^/' },
          directories: { type: 'array', items: { type: 'string', pattern: '^/' } },
          schedule: {
            type: 'object',
            required: ['interval'],
            additionalProperties: false,
            properties: {
              interval: { enum: INTERVALS },
              day: {
                enum: [
                  'monday',
                  'tuesday',
                  'wednesday',
                  'thursday',
                  'friday',
                  'saturday',
                  'sunday',
                ],
              },
              time: { type: 'string', pattern: '^\\d{2}:\\d{2}$' },
              timezone: { type: 'string' },
              cronjob: { type: 'string' },
            },
          },
          'open-pull-requests-limit': { type: 'integer', minimum: 0 },
          groups: {
            type: 'object',
            additionalProperties: {
              type: 'object',
              additionalProperties: false,
              minProperties: 1,
              properties: {
                'applies-to': { enum: ['version-updates', 'security-updates'] },
                'dependency-type': { enum: ['development', 'production'] },
                patterns: { type: 'array', items: { type: 'string' } },
                'exclude-patterns': { type: 'array', items: { type: 'string' } },
                'update-types': {
                  type: 'array',
                  items: { enum: ['major', 'minor', 'patch'] },
                },
              },
            },
          },
          allow: { type: 'array' },
          ignore: { type: 'array' },
          labels: { type: 'array', items: { type: 'string' } },
          assignees: { type: 'array', items: { type: 'string' } },
          reviewers: { type: 'array', items: { type: 'string' } },
          'commit-message': { type: 'object' },
          cooldown: { type: 'object' },
          'rebase-strategy': { enum: ['auto', 'disabled'] },
          'target-branch': { type: 'string' },
          'versioning-strategy': {
            enum: ['auto', 'increase', 'increase-if-necessary', 'lockfile-only', 'widen'],
          },
        },
      },
    },
  },
}

t.test('.github/dependabot.yml: documented options, npm and the workflow actions', async (t) => {
  const validate = new Ajv({ allErrors: true }).compile(DEPENDABOT_SCHEMA)
  const config = parse(read('.github/dependabot.yml'))
  t.ok(validate(config), JSON.stringify(validate.errors))
  const ecosystems = config.updates.map(
    (u: { 'package-ecosystem': string }) => u['package-ecosystem'],
  )
  t.same([...ecosystems].sort(), ['github-actions', 'npm'])

  const typo = structuredClone(config)
  typo.updates[0].schedule.interval = 'fortnightly'
  t.notOk(validate(typo), 'an undocumented interval is refused')
  const unknown = structuredClone(config)
  unknown.updates[0]['package-ecosytem'] = 'npm'
  t.notOk(validate(unknown), 'a misspelt option is refused')
})
