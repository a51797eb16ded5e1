// @ts-check
/** The command as a user runs it (from this checkout, without installing: --no-install). */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { appFiles } from '../lib/app.js'
import { templateFromCheckout } from '../lib/template.js'
import { CREATE, create, listFiles, PACKAGE, ROOT, tempDir } from './helpers.js'

/**
 * Paths and content hashes: equal snapshots mean nothing was written, moved or removed.
 * @param {string} dir
 */
function snapshot(dir) {
  if (!fs.existsSync(dir)) return {}
  return Object.fromEntries(
    listFiles(dir).map((f) => [
      f,
      createHash('sha1')
        .update(fs.readFileSync(path.join(dir, f)))
        .digest('hex'),
    ]),
  )
}

test('--help and --version write nothing', async (t) => {
  const cwd = tempDir(t, 'help')
  const help = await create(['--help'], cwd)
  assert.equal(help.code, 0)
  assert.match(help.stdout, /Usage: npm create freetier@latest \[directory\]/)
  assert.match(help.stdout, /--no-redis/)
  const version = await create(['--version'], cwd)
  assert.equal(version.code, 0)
  const own = JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8'))
  assert.equal(version.stdout.trim(), own.version)
  assert.deepEqual(fs.readdirSync(cwd), [])
})

test('bad input: exit 1, a message that says what to do, nothing written', async (t) => {
  /** @type {Array<[string[], RegExp]>} */
  const cases = [
    [['My App'], /"My App" cannot be an npm package name: .*capital letters.*\n {2}Try "my-app"/],
    [['http'], /"http" is the name of a Node core module.*Try "http-app"/s],
    [['app', '--frobnicate'], /unknown option --frobnicate \(see --help\)/],
    [['app', '--pm', 'cargo'], /--pm must be one of npm, pnpm, yarn, bun; got "cargo"/],
  ]
  for (const [args, message] of cases) {
    const cwd = tempDir(t, 'bad')
    const result = await create(args, cwd)
    assert.equal(result.code, 1, args.join(' '))
    assert.match(result.stderr, message)
    assert.deepEqual(fs.readdirSync(cwd), [], `${args.join(' ')}: nothing written`)
  }
  const missing = ['pnpm', 'yarn', 'bun'].find((pm) => spawnSync(pm, ['--version']).error)
  if (missing) {
    const cwd = tempDir(t, 'pm')
    const result = await create(['app', '--pm', missing], cwd)
    assert.equal(result.code, 1)
    assert.match(result.stderr, new RegExp(`${missing} was not found on PATH.*--no-install`))
    assert.deepEqual(fs.readdirSync(cwd), [])
  } else {
    t.diagnostic('every package manager is installed here: no missing one to refuse')
  }
})

test('a non-empty directory is refused without --overwrite and left untouched', async (t) => {
  const cwd = tempDir(t, 'nonempty')
  fs.mkdirSync(path.join(cwd, 'app', 'src'), { recursive: true })
  fs.writeFileSync(path.join(cwd, 'app', 'notes.txt'), 'mine')
  const before = snapshot(cwd)
  const result = await create(['app', '--no-install', '--no-git'], cwd)
  assert.equal(result.code, 1)
  assert.match(result.stderr, /app is not empty\. Choose another directory, or pass --overwrite/)
  assert.deepEqual(snapshot(cwd), before, 'untouched')
  assert.deepEqual(fs.readdirSync(cwd), ['app'], 'no staging directory left behind')
  fs.writeFileSync(path.join(cwd, 'file'), 'x')
  const onFile = await create(['file', '--no-install', '--no-git'], cwd)
  assert.equal(onFile.code, 1)
  assert.match(onFile.stderr, /file exists and is not a directory/)
})

test('--overwrite replaces the contents but keeps .git (and does not re-initialize it)', async (t) => {
  const cwd = tempDir(t, 'overwrite')
  const target = path.join(cwd, 'app')
  fs.mkdirSync(path.join(target, '.git'), { recursive: true })
  fs.writeFileSync(path.join(target, '.git', 'HEAD'), 'ref: refs/heads/main\n')
  fs.writeFileSync(path.join(target, 'old.txt'), 'old')
  const result = await create(['app', '--overwrite', '--no-install'], cwd)
  assert.equal(result.code, 0, result.stderr)
  assert.ok(!fs.existsSync(path.join(target, 'old.txt')), 'old contents removed')
  assert.equal(fs.readFileSync(path.join(target, '.git', 'HEAD'), 'utf8'), 'ref: refs/heads/main\n')
  assert.ok(fs.existsSync(path.join(target, 'render.yaml')))
  assert.doesNotMatch(result.stdout, /git repository created/)
  assert.deepEqual(fs.readdirSync(cwd), ['app'], 'no staging directory left behind')
})

test('the files written are the app, in a directory with normal permissions', async (t) => {
  const cwd = tempDir(t, 'files')
  const result = await create(['shop', '--yes', '--no-install', '--no-git', '--pm', 'npm'], cwd)
  assert.equal(result.code, 0, result.stderr)
  assert.match(result.stdout, /Next steps:\n\n {2}cd shop\n {2}npm install\n {2}npm run dev/)
  const dir = path.join(cwd, 'shop')
  const expected = appFiles(templateFromCheckout(ROOT), {
    name: 'shop',
    pm: 'npm',
    redis: true,
    lockfile: false,
  })
  assert.deepEqual(listFiles(dir), Object.keys(expected))
  for (const [file, { text }] of Object.entries(expected)) {
    assert.equal(fs.readFileSync(path.join(dir, file), 'utf8'), text, file)
  }
  const umask = process.umask()
  assert.equal(fs.statSync(dir).mode & 0o777, 0o777 & ~umask, 'the directory: 0777 less umask')
  assert.equal(fs.statSync(path.join(dir, 'src')).mode & 0o777, 0o777 & ~umask)
  assert.equal(fs.statSync(path.join(dir, 'package.json')).mode & 0o777, 0o666 & ~umask)
})

test('git: a repository with a first commit of every file', async (t) => {
  const cwd = tempDir(t, 'git')
  const env = {
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.com',
  }
  const result = await create(['app', '--no-install'], cwd, env)
  assert.equal(result.code, 0, result.stderr)
  assert.match(result.stdout, /git repository created with a first commit/)
  const dir = path.join(cwd, 'app')
  const git = (/** @type {string[]} */ ...args) =>
    spawnSync('git', args, { cwd: dir, encoding: 'utf8' }).stdout
  assert.equal(git('log', '--format=%s'), 'Initial commit from create-freetier\n')
  assert.equal(git('status', '--porcelain'), '', 'nothing left uncommitted')
  assert.deepEqual(git('ls-files').trim().split('\n').sort(), listFiles(dir, ['.git']))
})

test('interactive on a terminal: questions, a fix offered for a bad name, Ctrl-C', async (t) => {
  if (spawnSync('script', ['--version']).error) {
    t.skip('no `script` command to give the scaffolder a terminal')
    return
  }
  /**
   * Runs the scaffolder under `script` (a real pty), answering each prompt as it appears.
   * @param {string} cwd
   * @param {Array<[RegExp, string]>} answers
   * @returns {Promise<{ code: number | null, stdout: string }>}
   */
  const converse = (cwd, answers) =>
    new Promise((resolve, reject) => {
      const child = spawn('script', ['-qec', `${process.execPath} ${CREATE}`, '/dev/null'], {
        cwd,
        env: { ...process.env, TERM: 'dumb' },
        stdio: ['pipe', 'pipe', 'pipe'],
      })
      let stdout = ''
      let seen = 0
      const pending = [...answers]
      child.stdout.on('data', (d) => {
        stdout += d
        const [prompt, answer] = pending[0] ?? []
        if (prompt?.test(stdout.slice(seen))) {
          seen = stdout.length
          pending.shift()
          child.stdin.write(answer)
        }
      })
      child.on('error', reject)
      child.on('close', (code) => resolve({ code, stdout }))
    })

  const cwd = tempDir(t, 'tty')
  const done = await converse(cwd, [
    [/Project directory \(my-freetier-app\): $/, 'Bad Name\r'],
    [/Try "bad-name"[\s\S]*Project directory \(bad-name\): $/, '\r'],
    [/Include Redis .*\(Y\/n\) $/, 'n\r'],
    [/Install dependencies with npm\? \(Y\/n\) $/, 'no\r'],
    [/Create a git repository\? \(Y\/n\) $/, 'n\r'],
  ])
  assert.equal(done.code, 0, done.stdout)
  assert.match(done.stdout, /cannot be an npm package name/)
  assert.ok(fs.existsSync(path.join(cwd, 'bad-name', 'render.yaml')))
  assert.doesNotMatch(
    fs.readFileSync(path.join(cwd, 'bad-name', 'render.yaml'), 'utf8'),
    /keyvalue/,
  )
  assert.ok(!fs.existsSync(path.join(cwd, 'bad-name', '.git')), 'no git, as answered')

  fs.mkdirSync(path.join(cwd, 'busy'))
  fs.writeFileSync(path.join(cwd, 'busy', 'mine.txt'), 'mine')
  const before = snapshot(cwd)
  const cancelled = await converse(cwd, [
    [/Project directory \(my-freetier-app\): $/, 'busy\r'],
    [/busy is not empty\. Remove its contents \(a \.git is kept\)\? \(y\/N\) $/, '\r'],
    [/Project directory \(my-freetier-app\): $/, '\u0003'],
  ])
  assert.equal(cancelled.code, 1, 'Ctrl-C exits 1')
  assert.match(cancelled.stdout, /cancelled; nothing was written/)
  assert.deepEqual(snapshot(cwd), before, 'nothing written')
})
