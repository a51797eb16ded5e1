import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { loadDotEnv } from '../scripts/dot-env.js'

async function tempDir(t: Test, contents?: string) {
  const dir = await mkdtemp(join(tmpdir(), 'freetier-dotenv-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  if (contents !== undefined) await writeFile(join(dir, '.env'), contents)
  return dir
}

t.test('.env fills what the environment does not set; the environment wins', async (t) => {
  const dir = await tempDir(t, `# a comment\nA=from-file\nB="two words" # note\nC=from-file\n`)
  const env: NodeJS.ProcessEnv = { NODE_ENV: 'development', C: 'from-env', EMPTY: '' }
  t.same(loadDotEnv(join(dir, '.env'), env), { loaded: ['A', 'B'] })
  t.same(env, { NODE_ENV: 'development', A: 'from-file', B: 'two words', C: 'from-env', EMPTY: '' })
  t.same(loadDotEnv(join(dir, 'missing.env'), {}), { skipped: 'absent' })
})

t.test('never read outside development', async (t) => {
  const dir = await tempDir(t, 'A=from-file\n')
  for (const NODE_ENV of ['production', 'test']) {
    const env: NodeJS.ProcessEnv = { NODE_ENV }
    t.same(loadDotEnv(join(dir, '.env'), env), { skipped: 'not development' }, NODE_ENV)
    t.same(env, { NODE_ENV }, `${NODE_ENV}: nothing set`)
  }
  await writeFile(join(dir, '.env'), 'NODE_ENV=production\nA=from-file\n')
  const env: NodeJS.ProcessEnv = {}
  t.same(loadDotEnv(join(dir, '.env'), env), { skipped: 'sets NODE_ENV=production' })
  t.same(env, {}, 'a file that says production is ignored whole')
})
