import { execFile } from 'node:child_process'
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Test } from 'tap'
import { freePort } from './process.js'

const run = promisify(execFile)

/** TLS material for the server: PEM texts. */
export interface ServerTls {
  cert: string
  key: string
}

export interface OwnPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string
  port: number
  dir: string
}

/**
 * Postgres refuses to run as root: as root, the cluster belongs to the `postgres` system user
 * and every command runs as that user.
 */
async function asPostgres(command: string, args: string[]) {
  const asRoot = process.getuid?.() === 0
  return asRoot ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args)
}

/** As root, the postgres user's uid and gid (files the server reads must be its own). */
async function postgresOwner(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined
  const [uid, gid] = await Promise.all([
    run('id', ['-u', 'postgres']),
    run('id', ['-g', 'postgres']),
  ])
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) }
}

/** Why this machine cannot start a private Postgres cluster, or undefined when it can. */
export async function cannotStartPostgres(): Promise<string | undefined> {
  try {
    await run('initdb', ['--version'])
    await run('pg_ctl', ['--version'])
    if (process.getuid?.() === 0) await run('id', ['postgres'])
    return undefined
  } catch (error) {
    return `cannot start a private Postgres cluster here (initdb, pg_ctl and, as root, a postgres user are needed): ${(error as Error).message.split('\n')[0]}`
  }
}

/**
 * A Postgres cluster of the test's own (initdb in a temp dir, trust auth, a free port on
 * localhost), stopped and removed when the test ends: for tests that need server settings the
 * shared one does not have (TLS) or that stop the server.
 */
export async function ownPostgres(
  t: Test,
  options: { tls?: ServerTls } = {},
): Promise<OwnPostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'freetier-pg-'))
  const data = join(dir, 'data')
  const owner = await postgresOwner()
  const own = async (path: string) => {
    if (owner) await chown(path, owner.uid, owner.gid)
  }
  await own(dir)
  t.teardown(async () => {
    await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => {})
    await rm(dir, { recursive: true, force: true })
  })
  await asPostgres('initdb', [
    '-D',
    data,
    '-A',
    'trust',
    '-U',
    'postgres',
    '--no-sync',
    '-E',
    'UTF8',
  ])
  const port = await freePort()
  const settings = [
    `port = ${port}`,
    "listen_addresses = 'localhost'",
    `unix_socket_directories = '${dir}'`,
    'fsync = off',
    'shared_buffers = 16MB',
    'max_connections = 20',
  ]
  if (options.tls) {
    const certFile = join(data, 'server.crt')
    const keyFile = join(data, 'server.key')
    await writeFile(certFile, options.tls.cert)
    await writeFile(keyFile, options.tls.key)
    await chmod(keyFile, 0o600)
    await own(certFile)
    await own(keyFile)
    settings.push('ssl = on', `ssl_cert_file = '${certFile}'`, `ssl_key_file = '${keyFile}'`)
  }
  await writeFile(join(data, 'postgresql.auto.conf'), `${settings.join('\n')}\n`)
  await own(join(data, 'postgresql.auto.conf'))
  await asPostgres('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '120', 'start'])
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, dir }
}
