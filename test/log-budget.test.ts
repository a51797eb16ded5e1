import t from 'tap'
import { buildApp } from '../src/app.js'
import { DependencyUnavailableError } from '../src/errors.js'
import { LogBudget } from '../src/log-budget.js'
import { testConfig, testPlan } from './helpers/config.js'
import { testDatabase } from './helpers/database.js'
import { captureLogs } from './helpers/logs.js'

t.test('one line per key per interval; the next one says how many were left out', async (t) => {
  const budget = new LogBudget(1000)
  t.equal(budget.take('workers', 0), 0, 'the first goes')
  t.equal(budget.take('workers', 10), undefined)
  t.equal(budget.take('workers', 999), undefined)
  t.equal(budget.take('postgres', 500), 0, 'each key has its own')
  t.equal(budget.take('workers', 1000), 2, 'a second later: goes, with the two left out')
  t.equal(budget.take('workers', 2500), 0)
})

t.test('a burst of refusals by one dependency logs one warning, every answer a 503', async (t) => {
  const { lines, stream } = captureLogs()
  const config = testConfig({ LOG_LEVEL: 'warn', DATABASE_URL: (await testDatabase(t)).url })
  const app = await buildApp({
    config,
    plan: testPlan(config),
    logger: { level: 'warn', stream },
    plugins: [
      async (app) => {
        app.get('/t/refuse', async () => {
          throw new DependencyUnavailableError('workers', 'worker queue is full', 2)
        })
      },
    ],
  })
  t.teardown(() => app.close())
  const answers = await Promise.all(Array.from({ length: 20 }, () => app.inject('/t/refuse')))
  t.same([...new Set(answers.map((a) => a.statusCode))], [503])
  t.ok(
    answers.every((a) => a.headers['retry-after'] === '2'),
    'each with Retry-After',
  )
  const warnings = lines.filter((l) => l.msg === 'worker queue is full')
  t.equal(warnings.length, 1, 'one warning for 20 refusals within a second')
  t.match(warnings[0], { dependency: 'workers', level: 40 })
})
