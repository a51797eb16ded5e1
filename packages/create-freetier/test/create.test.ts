/**
 * The scaffolder (scripts/create.js, the package's bin). Not part of the template: a scaffolded
 * app has no scaffolder to test.
 */
import { type SpawnOptions, spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import t, { type Test } from 'tap'
import { readBlueprint, referenceProblems, schemaErrors, webService } from './helpers/blueprint.js'
import { untracked } from './helpers/nested.js'
import { ROOT } from './helpers/process.js'

const CREATE = join(ROOT, 'scripts', 'create.js')
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))

interface Result {
  code: number | null
  stdout: string
  stderr: string
  ms: number
}

/** Runs a command to completion, capturing its output. */
function run(cmd: string, args: string[], options: SpawnOptions = {}): Promise<Result> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d) => {
      stdout += d
    })
    child.stderr?.on('data', (d) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }))
  })
}

/** The scaffolder from this checkout, without a terminal (so: non-interactive). */
function create(args: string[], cwd: string, env: Record<string, string> = {}) {
  return run(process.execPath, [CREATE, ...args], { cwd, env: { ...process.env, ...env } })
}

function tempDir(t: Test, label: string) {
  const dir = mkdtempSync(join(tmpdir(), `freetier-${label}-`))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Every file under dir (relative paths), optionally skipping some top-level entries. */
function listFiles(dir: string, skip: string[] = []): string[] {
  const out: string[] = []
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name
      if (!rel && skip.includes(entry.name)) continue
      if (entry.isDirectory()) walk(child)
      else out.push(child)
    }
  }
  walk('')
  return out.sort()
}

/** Paths and content hashes: equal snapshots mean nothing was written, moved or removed. */
function snapshot(dir: string, skip: string[] = []): Record<string, string> {
  if (!existsSync(dir)) return {}
  return Object.fromEntries(
    listFiles(dir, skip).map((f) => [
      f,
      createHash('sha1')
        .update(readFileSync(join(dir, f)))
        .digest('hex'),
    ]),
  )
}

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'))

t.test(
  'the scaffolder type-checks (plain JavaScript with JSDoc types, run without a build)',
  async (t) => {
    // Not part of tsconfig.json: allowJs there would also compile other .js/.mjs files into dist.
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    const flags = [
      '--ignoreConfig',
      '--noEmit',
      '--allowJs',
      '--checkJs',
      '--strict',
      '--skipLibCheck',
    ]
    const target = ['--target', 'es2023', '--module', 'nodenext', '--types', 'node']
    const result = await run(...untracked(process.execPath, [tsc, ...flags, ...target, CREATE]), {
      cwd: ROOT,
    })
    t.equal(result.code, 0, `${result.stdout}${result.stderr}`)
  },
)

t.test('--help and --version', async (t) => {
  const cwd = tempDir(t, 'help')
  const help = await create(['--help'], cwd)
  t.equal(help.code, 0)
  t.match(help.stdout, /Usage: npm create freetier@latest \[directory\]/)
  t.match(help.stdout, /--no-redis/)
  const version = await create(['--version'], cwd)
  t.equal(version.code, 0)
  t.equal(version.stdout.trim(), pkg.version)
  t.same(readdirSync(cwd), [], 'nothing written')
})

t.test('bad input: exit 1, a message that says what to do, nothing written', async (t) => {
  const cases: Array<[string, string[], RegExp]> = [
    [
      'capitals and a space',
      ['My App'],
      /"My App" cannot be an npm package name: .*capital letters.*\n {2}Try "my-app"/,
    ],
    ['leading period', ['.app'], /starts with a period.*Try "app"/s],
    ['leading underscore', ['_app'], /starts with an underscore/],
    ['reserved name', ['node_modules'], /"node_modules" is a reserved name/],
    ['core module name', ['http'], /"http" is the name of a Node core module.*Try "http-app"/s],
    ['too long', ['a'.repeat(215)], /longer than 214 characters/],
    ['special characters', ["it's"], /one of the characters ~'!\(\)\*/],
    ['unknown flag', ['app', '--frobnicate'], /unknown option --frobnicate \(see --help\)/],
    [
      'unknown --pm',
      ['app', '--pm', 'cargo'],
      /--pm must be one of npm, pnpm, yarn, bun; got "cargo"/,
    ],
    ['--pm without a value', ['app', '--pm'], /--pm <value> needs a value/],
    ['two directories', ['a', 'b'], /expected one directory, got a b/],
  ]
  for (const [label, args, message] of cases) {
    const cwd = tempDir(t, 'bad')
    const result = await create(args, cwd)
    t.equal(result.code, 1, `${label}: exit 1`)
    t.match(result.stderr, message, `${label}: says what is wrong`)
    t.same(readdirSync(cwd), [], `${label}: nothing written`)
  }
})

t.test('a --pm that is not installed is refused before anything is written', async (t) => {
  const missing = ['pnpm', 'yarn', 'bun'].find((pm) => spawnSync(pm, ['--version']).error)
  if (!missing) return t.pass('every package manager is installed here: nothing to refuse')
  const cwd = tempDir(t, 'pm')
  const result = await create(['app', '--pm', missing], cwd)
  t.equal(result.code, 1)
  t.match(result.stderr, new RegExp(`${missing} was not found on PATH.*--no-install`))
  t.same(readdirSync(cwd), [])
})

t.test('a non-empty directory is refused without --overwrite and left untouched', async (t) => {
  const cwd = tempDir(t, 'nonempty')
  const target = join(cwd, 'app')
  mkdirSync(join(target, 'src'), { recursive: true })
  writeFileSync(join(target, 'notes.txt'), 'mine')
  writeFileSync(join(target, 'src', 'keep.ts'), 'export {}')
  const before = snapshot(cwd)
  const result = await create(['app', '--no-install', '--no-git'], cwd)
  t.equal(result.code, 1)
  t.match(result.stderr, /app is not empty\. Choose another directory, or pass --overwrite/)
  t.same(snapshot(cwd), before, 'untouched')
  t.same(readdirSync(cwd), ['app'], 'no staging directory left behind')

  writeFileSync(join(cwd, 'file'), 'x')
  const onFile = await create(['file', '--no-install', '--no-git'], cwd)
  t.equal(onFile.code, 1)
  t.match(onFile.stderr, /file exists and is not a directory/)
})

t.test('a directory holding only .git counts as empty, and its .git is kept', async (t) => {
  const cwd = tempDir(t, 'gitonly')
  const target = join(cwd, 'app')
  mkdirSync(join(target, '.git'), { recursive: true })
  writeFileSync(join(target, '.git', 'HEAD'), 'ref: refs/heads/main\n')
  const result = await create(['app', '--no-install'], cwd)
  t.equal(result.code, 0, result.stderr)
  t.equal(readFileSync(join(target, '.git', 'HEAD'), 'utf8'), 'ref: refs/heads/main\n')
  t.ok(existsSync(join(target, 'package.json')))
  t.notMatch(
    result.stdout,
    /git repository created/,
    'an existing repository is not re-initialized',
  )
})

t.test('--overwrite replaces the contents but keeps .git', async (t) => {
  const cwd = tempDir(t, 'overwrite')
  const target = join(cwd, 'app')
  mkdirSync(join(target, '.git'), { recursive: true })
  writeFileSync(join(target, '.git', 'HEAD'), 'ref: refs/heads/main\n')
  writeFileSync(join(target, 'old.txt'), 'old')
  const result = await create(['app', '--overwrite', '--no-install'], cwd)
  t.equal(result.code, 0, result.stderr)
  t.notOk(existsSync(join(target, 'old.txt')), 'old contents removed')
  t.ok(existsSync(join(target, '.git', 'HEAD')), '.git kept')
  t.ok(existsSync(join(target, 'render.yaml')))
  t.same(readdirSync(cwd), ['app'], 'no staging directory left behind')
})

/** Paths the template must have and must never have. */
const EXPECTED = [
  'package.json',
  '.gitignore',
  '.env.example',
  'render.yaml',
  'README.md',
  'tsconfig.json',
  'src/server.ts',
  'scripts/start.ts',
  'test/blueprint.test.ts',
]
const EXCLUDED = [
  'scripts/create.js',
  'test/create.test.ts',
  '.ci',
  'dist',
  'node_modules',
  '.data',
  '.tap',
  'coverage',
  'package-lock.json',
  '.env',
  '.npmignore',
]

/** What every scaffolded app must satisfy, however it was made. */
function checkApp(t: Test, dir: string, name: string, redis: boolean, installed = false) {
  for (const file of EXPECTED) t.ok(existsSync(join(dir, file)), `${file} present`)
  for (const file of EXCLUDED) {
    if (installed && ['node_modules', 'package-lock.json', '.tap'].includes(file)) continue
    t.notOk(existsSync(join(dir, file)), `${file} absent`)
  }

  const app = readJson(join(dir, 'package.json'))
  t.match(app, { name, version: '0.1.0', private: true, type: 'module' })
  for (const field of ['bin', 'files', 'repository', 'keywords', 'publishConfig']) {
    t.notOk(field in app, `package.json has no ${field}`)
  }
  t.same(app.dependencies, pkg.dependencies, 'the same runtime dependencies')
  t.same(app.devDependencies, pkg.devDependencies, 'the same dev dependencies')
  t.same(app.engines, pkg.engines)
  for (const [script, command] of Object.entries<string>(app.scripts)) {
    t.notMatch(
      command,
      /create\.js|create-freetier/,
      `script ${script} does not use the scaffolder`,
    )
  }
  t.equal(
    readFileSync(join(dir, '.gitignore'), 'utf8'),
    readFileSync(join(ROOT, '.gitignore'), 'utf8'),
    'a real .gitignore, the same as the repository',
  )
  t.match(readFileSync(join(dir, 'README.md'), 'utf8'), new RegExp(`^# ${name}\n`), 'README title')

  const blueprint = readBlueprint(join(dir, 'render.yaml'))
  t.same(referenceProblems(blueprint), [], 'every reference in render.yaml resolves')
  const schema = schemaErrors(blueprint)
  if ('errors' in schema) t.same(schema.errors, [], 'render.yaml is valid against the schema')
  t.equal(webService(blueprint).name, name.replace(/^@[^/]+\//, ''), 'services named after the app')
  const yaml = readFileSync(join(dir, 'render.yaml'), 'utf8')
  const env = readFileSync(join(dir, '.env.example'), 'utf8')
  const kv = (blueprint.services ?? []).filter((s) => s.type === 'keyvalue')
  if (redis) {
    t.equal(kv.length, 1, 'the Key Value service is there')
    t.ok(
      webService(blueprint).envVars?.some((v) => v.key === 'REDIS_URL'),
      'REDIS_URL wired',
    )
  } else {
    t.same(kv, [], 'no Key Value service')
    t.notMatch(yaml, /REDIS_URL|keyvalue/, 'render.yaml does not mention REDIS_URL or keyvalue')
    t.notMatch(env, /^#?\s*REDIS_URL=/m, '.env.example has no REDIS_URL')
    const original = readFileSync(join(ROOT, '.env.example'), 'utf8').split('\n')
    t.same(
      env.split('\n').filter((line) => !original.includes(line)),
      [],
      'nothing else in .env.example changed',
    )
  }
}

t.test('scaffold from this checkout: the template, rewritten for the app', async (t) => {
  const cwd = tempDir(t, 'checkout')
  const result = await create(['app', '--yes', '--no-install', '--no-git'], cwd)
  t.equal(result.code, 0, result.stderr)
  t.match(result.stdout, /Next steps:\n\n {2}cd app\n {2}npm install\n {2}npm run dev/)
  checkApp(t, join(cwd, 'app'), 'app', true)

  const noRedis = await create(['lean', '--no-redis', '--no-install', '--no-git'], cwd)
  t.equal(noRedis.code, 0, noRedis.stderr)
  checkApp(t, join(cwd, 'lean'), 'lean', false)
  t.same(listFiles(join(cwd, 'lean')), listFiles(join(cwd, 'app')), 'the same files')

  const scoped = await create(['@acme/shop', '--no-install', '--no-git'], cwd)
  t.equal(scoped.code, 0, scoped.stderr)
  checkApp(t, join(cwd, 'shop'), '@acme/shop', true)
})

t.test('git: a repository with a first commit of every file', async (t) => {
  const cwd = tempDir(t, 'git')
  const env = {
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.com',
  }
  const result = await create(['app', '--no-install'], cwd, env)
  t.equal(result.code, 0, result.stderr)
  t.match(result.stdout, /git repository created with a first commit/)
  const dir = join(cwd, 'app')
  const git = (...args: string[]) => spawnSync('git', args, { cwd: dir, encoding: 'utf8' }).stdout
  t.match(git('log', '--format=%s'), /^Initial commit from create-freetier\n$/)
  t.equal(git('status', '--porcelain'), '', 'nothing left uncommitted')
  t.same(
    git('ls-files').trim().split('\n').sort(),
    listFiles(dir, ['.git']),
    'every file committed',
  )
})

t.test('the package manager running it shapes the next steps', async (t) => {
  const cwd = tempDir(t, 'pm')
  const agents: Array<[string, RegExp]> = [
    ['pnpm/9.12.0 npm/? node/v20.19.0 linux x64', /pnpm install\n {2}pnpm dev/],
    ['yarn/1.22.22 npm/? node/v20.19.0 linux x64', /yarn install\n {2}yarn dev/],
    ['bun/1.2.0 npm/? node/v20.19.0 linux x64', /bun install\n {2}bun run dev/],
  ]
  for (const [i, [agent, steps]] of agents.entries()) {
    const result = await create([`app${i}`, '--yes', '--no-install', '--no-git'], cwd, {
      npm_config_user_agent: agent,
    })
    t.equal(result.code, 0, result.stderr)
    t.match(result.stdout, steps, agent)
  }
})

t.test('interactive on a terminal', async (t) => {
  if (spawnSync('script', ['--version']).error) {
    return t.pass('skipped: no `script` command to give the scaffolder a terminal')
  }
  /** Runs the scaffolder under `script` (a real pty), answering each prompt as it appears. */
  const converse = (cwd: string, answers: Array<[RegExp, string]>) =>
    new Promise<Result>((resolve, reject) => {
      const started = Date.now()
      const command = `${process.execPath} ${CREATE}`
      const child = spawn('script', ['-qec', command, '/dev/null'], {
        cwd,
        env: { ...process.env, TERM: 'dumb' },
        stdio: ['pipe', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
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
      child.stderr.on('data', (d) => {
        stderr += d
      })
      child.on('error', reject)
      child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }))
    })

  const cwd = tempDir(t, 'tty')
  const done = await converse(cwd, [
    [/Project directory \(my-freetier-app\): $/, 'Bad Name\r'],
    [/Try "bad-name"[\s\S]*Project directory \(bad-name\): $/, '\r'],
    [/Include Redis .*\(Y\/n\) $/, 'n\r'],
    [/Install dependencies with npm\? \(Y\/n\) $/, 'no\r'],
    [/Create a git repository\? \(Y\/n\) $/, 'n\r'],
  ])
  t.equal(done.code, 0, done.stdout)
  t.match(done.stdout, /cannot be an npm package name/)
  checkApp(t, join(cwd, 'bad-name'), 'bad-name', false)
  t.notOk(existsSync(join(cwd, 'bad-name', '.git')), 'no git, as answered')

  mkdirSync(join(cwd, 'busy'))
  writeFileSync(join(cwd, 'busy', 'mine.txt'), 'mine')
  const before = snapshot(cwd)
  const cancelled = await converse(cwd, [
    [/Project directory \(my-freetier-app\): $/, 'busy\r'],
    [/busy is not empty\. Remove its contents \(a \.git is kept\)\? \(y\/N\) $/, '\r'],
    [/Project directory \(my-freetier-app\): $/, '\u0003'],
  ])
  t.equal(cancelled.code, 1, 'Ctrl-C exits 1')
  t.match(cancelled.stdout, /cancelled; nothing was written/)
  t.same(snapshot(cwd), before, 'nothing written')
})

t.test('the packed file list: the template and the scaffolder, nothing git ignores', async (t) => {
  const dry = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT })
  t.equal(dry.code, 0, dry.stderr)
  const [info] = JSON.parse(dry.stdout.slice(dry.stdout.indexOf('[')))
  const packed: string[] = info.files.map((f: { path: string }) => f.path).sort()
  t.comment(
    `npm pack: ${info.entryCount} files, ${info.size} bytes packed, ${info.unpackedSize} unpacked`,
  )
  t.ok(packed.includes('scripts/create.js'), 'the scaffolder is packed')
  t.equal(pkg.bin['create-freetier'], 'scripts/create.js')
  t.notOk(packed.includes('test/create.test.ts'), "the scaffolder's tests are not")

  const ignored = spawnSync('git', ['check-ignore', '--no-index', '--stdin'], {
    cwd: ROOT,
    input: packed.join('\n'),
    encoding: 'utf8',
  })
  t.equal(
    ignored.stdout,
    '',
    'no packed file is one git ignores (build output, local data, secrets)',
  )

  const cwd = tempDir(t, 'list')
  const result = await create(['app', '--yes', '--no-install', '--no-git'], cwd)
  t.equal(result.code, 0, result.stderr)
  t.same(
    listFiles(join(cwd, 'app')),
    packed.filter((f) => f !== 'scripts/create.js'),
    'scaffolding from a checkout copies exactly the packed template',
  )
})

/**
 * The whole cycle as a user gets it: npm pack, install the tarball the way `npm create` does,
 * run its bin without a terminal, then install, build and test the new app (with and without
 * Redis). The app's own tests are this repository's tests, which already run on every Node
 * version; the cycle is expensive (an install and a nested full test run), so it runs once per
 * CI, on the Node version that is the project's floor.
 */
const FULL_CYCLE_NODE = 20
const major = Number(process.versions.node.split('.')[0])
// The file's time limit (package.json tap.timeout) is for ordinary test files; this one installs.
if (major === FULL_CYCLE_NODE) t.setTimeout(900_000)
t.test(
  'e2e: npm pack -> create-freetier -> install, build, test (with and without Redis)',
  {
    skip:
      major === FULL_CYCLE_NODE
        ? false
        : `runs on Node ${FULL_CYCLE_NODE} only (the CI's other pass): the scaffolded apps' tests are this repo's tests, which this Node ${process.versions.node} run already covers`,
    timeout: 900_000,
  },
  async (t) => {
    const work = tempDir(t, 'e2e')
    const timings: string[] = []
    // A clean environment for nested npm and tap: no coverage or tap state from this run.
    const env: Record<string, string> = {}
    for (const [key, value] of Object.entries(process.env)) {
      if (value !== undefined && !/^(TAP|_TAP|NODE_V8_COVERAGE$|NODE_OPTIONS$|npm_)/.test(key)) {
        env[key] = value
      }
    }
    Object.assign(env, {
      npm_config_prefer_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    })
    const step = async (label: string, cmd: string, args: string[], cwd: string) => {
      const result = await run(...untracked(cmd, args), { cwd, env })
      timings.push(`${label}: ${(result.ms / 1000).toFixed(1)} s`)
      t.equal(result.code, 0, `${label} exits 0`)
      if (result.code !== 0) {
        // The failing assertions first: a nested test run's tail is mostly its coverage table.
        const failures = result.stdout
          .split('\n')
          .flatMap((line, i, lines) =>
            /^\s*not ok /.test(line) ? lines.slice(Math.max(0, i - 2), i + 25) : [],
          )
        t.comment(`${failures.join('\n').slice(0, 12000)}\n${result.stderr.slice(-4000)}`)
      }
      return result
    }

    const packed = await step(
      'npm pack',
      'npm',
      ['pack', '--pack-destination', work, '--ignore-scripts'],
      ROOT,
    )
    const tarball = join(work, packed.stdout.trim().split('\n').pop() ?? '')
    t.comment(`tarball ${relative(work, tarball)}: ${statSync(tarball).size} bytes`)

    const runner = join(work, 'runner')
    mkdirSync(runner)
    writeFileSync(join(runner, 'package.json'), '{"private":true}\n')
    const installed = await step(
      'install the tarball (as npm create does)',
      'npm',
      ['install', tarball],
      runner,
    )
    // The package's `overrides` apply only where it is the root (in the app), not here.
    const warned = installed.stderr.match(/package: '[^']+'/g) ?? []
    if (warned.length > 0) t.comment(`npm create's install warns EBADENGINE: ${warned.join(', ')}`)
    t.ok(
      existsSync(join(runner, 'node_modules', 'create-freetier', '.npmignore')),
      'npm renamed .gitignore to .npmignore on install (the scaffolder turns it back)',
    )
    const bin = join(runner, 'node_modules', '.bin', 'create-freetier')

    const apps = join(work, 'apps')
    mkdirSync(apps)
    // 1. Defaults without a terminal: Redis, npm install (visible progress), git.
    const withRedis = await step(
      'create-freetier app --yes (installs)',
      bin,
      ['app', '--yes'],
      apps,
    )
    t.match(withRedis.stdout, /Installing dependencies with npm/)
    t.notMatch(withRedis.stderr, /EBADENGINE/, "the app's install has no engine warnings")
    checkApp(t, join(apps, 'app'), 'app', true, true)
    await step('npm run build (app)', 'npm', ['run', 'build'], join(apps, 'app'))
    // One job: the outer suite is still running beside it on the same two cores.
    await step('npm test (app)', 'npm', ['test', '--', '--jobs=1'], join(apps, 'app'))

    // 2. Without Redis, installed by hand. Its dependencies are the app's (checked above), so
    // the app's node_modules moves over and `npm install` only verifies it: one download, not two.
    await step(
      'create-freetier lean --no-redis',
      bin,
      ['lean', '--no-redis', '--no-install', '--no-git'],
      apps,
    )
    const lean = join(apps, 'lean')
    checkApp(t, lean, 'lean', false)
    t.notOk(existsSync(join(lean, 'node_modules')), '--no-install installs nothing')
    renameSync(join(apps, 'app', 'node_modules'), join(lean, 'node_modules'))
    const leanInstall = await step('npm install (lean)', 'npm', ['install'], lean)
    t.notMatch(leanInstall.stderr, /EBADENGINE/, "the app's install has no engine warnings")
    await step('npm run build (lean)', 'npm', ['run', 'build'], lean)

    // Its files are the full app's but for the ones --no-redis (and the name) change, so its
    // full suite would re-run the same code on the same inputs (minutes of CI). It runs the test
    // files that read the changed files; the full suite ran above.
    const apart = ['node_modules', 'dist', '.git', '.tap', '.data', 'coverage', 'package-lock.json']
    const full = snapshot(join(apps, 'app'), apart)
    const mine = snapshot(lean, apart)
    const changed = Object.keys(mine).filter((f) => mine[f] !== full[f])
    t.same(Object.keys(mine), Object.keys(full), 'the same files as the full app')
    const variant = ['.env.example', 'README.md', 'package.json', 'render.yaml']
    t.same(
      changed.filter((f) => !variant.includes(f)),
      [],
      `only the variant and the name differ (${changed.join(', ')})`,
    )
    const readers = listFiles(join(lean, 'test'))
      .filter((f) => f.endsWith('.test.ts'))
      .filter((f) =>
        /render\.yaml|\.env\.example|helpers\/blueprint/.test(
          readFileSync(join(lean, 'test', f), 'utf8'),
        ),
      )
      .map((f) => `dist/test/${f.replace(/\.ts$/, '.js')}`)
    t.ok(
      readers.includes('dist/test/blueprint.test.js'),
      `tests that read them: ${readers.join(' ')}`,
    )
    const tested = await step(
      'npm test (lean: tests that read the changed files)',
      'npm',
      ['test', '--', '--disable-coverage', ...readers],
      lean,
    )
    t.match(tested.stdout, /# \{ total: \d+, pass: \d+/, 'they ran and passed')
    t.comment(`timings:\n${timings.join('\n')}`)
  },
)
