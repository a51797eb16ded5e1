/**
 * The production build as it ships: `scripts/build.ts` bundles into a directory of its own, and
 * the bundle's bootstrap serves the example end to end: migrations found (src/notes/migrations),
 * a note written and read, its HTML rendered by the bundled worker entry and task module.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { collectLines, ROOT, startProcess } from '../../../../test/helpers/process.js'
import { planMemory, v8Flags } from '../../../memory.js'

const out = join(ROOT, 'dist', `bundle-test-${process.pid}`)
t.teardown(() => rm(out, { recursive: true, force: true }))

t.test('the bundle starts, migrates, serves and renders on its worker pool', async (t) => {
  const { NODE_V8_COVERAGE: _, ...env } = process.env
  const tsx = join(ROOT, 'node_modules', '.bin', 'tsx')
  const build = spawn(tsx, ['scripts/build.ts', '--out', out], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const buildLines = collectLines(build)
  const [code] = await once(build, 'exit')
  t.equal(code, 0, 'the build succeeds')
  if (code !== 0) return t.comment(buildLines.join('\n'))

  const app = await startProcess(t, {
    script: join(out, 'start.js'),
    // As render.yaml starts it: the plan's flags on the command line.
    nodeArgs: v8Flags(planMemory({ envLimitMb: 512 })),
    // The bundle is deleted after the test: no coverage of it for tap to map.
    env: {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      NODE_V8_COVERAGE: '',
      MEMORY_LIMIT_MB: '512',
    },
  })
  const ready = JSON.parse(await app.waitForLine(/"msg":"ready/, 60_000))
  t.equal((await fetch(`${app.url}/readyz`)).status, 200, 'migrated and ready')
  t.equal(ready.routeSchemas.compiled, 0, 'no route schema compiled at start: all came built')
  t.ok(ready.routeSchemas.precompiled > 0, `${ready.routeSchemas.precompiled} precompiled`)

  const created = await fetch(`${app.url}/api/notes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'bundled', body: '*rendered*' }),
  })
  t.equal(created.status, 201)
  const { id } = (await created.json()) as { id: string }
  const note = await fetch(`${app.url}/api/notes/${id}`)
  t.match(await note.json(), { id, title: 'bundled', body: '*rendered*' }, 'read back')
  const html = await fetch(`${app.url}/api/notes/${id}/html`)
  t.equal(html.status, 200)
  t.match(await html.text(), '<p><em>rendered</em></p>', 'rendered by the bundled task')
  const invalid = await fetch(`${app.url}/api/notes/not-a-uuid`)
  t.equal(invalid.status, 400, 'the JSON schemas validate')
  const empty = await fetch(`${app.url}/api/notes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: '', body: 'x' }),
  })
  t.match(
    await empty.json(),
    { statusCode: 400, issues: [{ field: 'body/title', rule: 'minLength' }] },
    'the built validators name the field and the rule',
  )

  app.child.kill('SIGTERM')
  t.equal((await app.waitForExit()).code, 0, 'drains and exits 0 on SIGTERM')
})
