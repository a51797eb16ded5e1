import Fastify from 'fastify'
import t from 'tap'
import { type CompileInput, type Precompiled, routeCompilers } from '../src/route-compilers.js'

const Body = {
  type: 'object',
  required: ['title'],
  additionalProperties: false,
  properties: { title: { type: 'string', minLength: 1 } },
} as const
const Reply = { type: 'object', properties: { title: { type: 'string' } } } as const

/**
 * A Fastify app with one route, its schemas compiled by routeCompilers over `table`; each request
 * adds the body validator it was checked with to `validators`.
 */
async function appWith(
  table: Precompiled,
  recorded: CompileInput[] = [],
  validators: unknown[] = [],
) {
  const compilers = routeCompilers(table, (input) => recorded.push(input))
  const app = Fastify({ schemaController: { compilersFactory: compilers.compilersFactory } })
  app.post('/echo', { schema: { body: Body, response: { 200: Reply } } }, async (request) => {
    validators.push(request.getValidationFunction('body'))
    return { ...(request.body as object), secret: 'not in the response schema' }
  })
  await app.ready()
  return { app, counts: compilers.counts, recorded }
}

/** What a start with no table compiles: the inputs the build would precompile. */
async function recordedInputs() {
  const recorded: CompileInput[] = []
  const { app } = await appWith({ validators: {}, serializers: {} }, recorded)
  await app.close()
  return recorded
}

t.test('without a table, each schema is compiled as Fastify would and recorded', async (t) => {
  const { app, counts, recorded } = await appWith({ validators: {}, serializers: {} })
  t.teardown(() => app.close())
  t.same(counts, { precompiled: 0, compiled: 2 })
  t.same(
    recorded.map((r) => [r.kind, r.schema]),
    [
      ['validator', Body],
      ['serializer', Reply],
    ],
  )
  const ok = await app.inject({ method: 'POST', url: '/echo', payload: { title: 'a' } })
  t.equal(ok.body, '{"title":"a"}', 'serialized by the response schema')
  const bad = await app.inject({ method: 'POST', url: '/echo', payload: { title: '' } })
  t.equal(bad.statusCode, 400, 'validated by the body schema')
})

t.test('a recorded schema is taken from the table, not compiled', async (t) => {
  const [validator, serializer] = (await recordedInputs()) as [CompileInput, CompileInput]
  const calls: string[] = []
  const table: Precompiled = {
    validators: {
      [validator.key]: () => {
        calls.push('validator')
        // Ajv's contract: false, with the errors on the function.
        const validate = (data: { title?: string }) => {
          const valid = data.title === 'from the table'
          validate.errors = valid ? null : [{ instancePath: '/title', message: 'not the table' }]
          return valid
        }
        validate.errors = null as unknown
        return validate as unknown as ReturnType<Precompiled['validators'][string]>
      },
    },
    serializers: {
      [serializer.key]: () => {
        calls.push('serializer')
        return () => '"serialized by the table"'
      },
    },
  }
  const { app, counts } = await appWith(table)
  t.teardown(() => app.close())
  t.same(counts, { precompiled: 2, compiled: 0 })
  t.same(calls, ['validator', 'serializer'])
  const ok = await app.inject({
    method: 'POST',
    url: '/echo',
    payload: { title: 'from the table' },
  })
  t.equal(ok.body, '"serialized by the table"')
  const refused = await app.inject({ method: 'POST', url: '/echo', payload: { title: 'a' } })
  t.equal(refused.statusCode, 400, "the table's validator decides")
})

t.test('an edited schema misses a stale table and is compiled afresh', async (t) => {
  const recorded = await recordedInputs()
  const stale: Precompiled = {
    validators: Object.fromEntries(
      recorded.map((r) => [
        r.key,
        () => {
          throw new Error('the stale code was used')
        },
      ]),
    ),
    serializers: {},
  }
  const compilers = routeCompilers(stale)
  const app = Fastify({ schemaController: { compilersFactory: compilers.compilersFactory } })
  t.teardown(() => app.close())
  const edited = { ...Body, properties: { title: { type: 'string', minLength: 2 } } }
  app.post('/echo', { schema: { body: edited } }, async () => 'ok')
  await app.ready()
  t.same(compilers.counts, { precompiled: 0, compiled: 1 })
  const bad = await app.inject({ method: 'POST', url: '/echo', payload: { title: 'a' } })
  t.equal(bad.statusCode, 400, 'the edited rule applies')
})

t.test('a second app in the process reuses what the first compiled', async (t) => {
  const validators: unknown[] = []
  const empty: Precompiled = { validators: {}, serializers: {} }
  const first = await appWith(empty, [], validators)
  const second = await appWith(empty, [], validators)
  t.teardown(() => Promise.all([first.app.close(), second.app.close()]))
  t.same(second.counts, { precompiled: 0, compiled: 2 }, 'counted as compiled here')
  for (const { app } of [first, second]) {
    const ok = await app.inject({ method: 'POST', url: '/echo', payload: { title: 'a' } })
    t.equal(ok.body, '{"title":"a"}')
    const bad = await app.inject({ method: 'POST', url: '/echo', payload: { title: '' } })
    t.equal(bad.statusCode, 400)
  }
  t.equal(validators.length, 2)
  t.equal(validators[0], validators[1], 'one validator, compiled once')
})
