import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import t from 'tap'
import { connectionFromUrl, poolSettings } from '../src/db/connection.js'
import { testConfig } from './helpers/config.js'
import { cannotStartPostgres, ownPostgres } from './helpers/postgres-server.js'
import { requireServices } from './helpers/services.js'
import { makeCa } from './helpers/tls.js'

t.test('sslmode is checked, and the URL never reaches pg as a string', async (t) => {
  t.throws(() => connectionFromUrl('postgres://h/db?sslmode=bogus'), /sslmode=bogus is not one of/)
  const { connection, sslmode } = connectionFromUrl(
    'postgres://u:p@h:6543/db?sslmode=require&application_name=x',
  )
  t.equal(sslmode, 'require')
  t.match(connection, {
    host: 'h',
    port: 6543,
    user: 'u',
    password: 'p',
    database: 'db',
    ssl: { rejectUnauthorized: false },
  })
  t.notOk(
    'connectionString' in connection,
    'pg would re-parse a connection string with its own defaults',
  )
  t.equal(connectionFromUrl('postgres://h/db').sslmode, 'unset')
})

const cannotStart = await cannotStartPostgres()
if (cannotStart && requireServices) throw new Error(`${cannotStart} and REQUIRE_SERVICES=1`)

t.test(
  'each sslmode against a real Postgres with TLS on',
  { skip: cannotStart ?? false },
  async (t) => {
    const ca = await makeCa('freetier test CA')
    const other = await makeCa('some other CA')
    // The certificate names localhost only: connecting to 127.0.0.1 fails a host name check.
    const server = await ownPostgres(t, { tls: await ca.issue('localhost') })
    const dir = await mkdtemp(join(tmpdir(), 'freetier-roots-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    const caFile = join(dir, 'ca.crt')
    const otherFile = join(dir, 'other.crt')
    await writeFile(caFile, ca.cert)
    await writeFile(otherFile, other.cert)

    const config = testConfig({})
    /** Connects as the app would; true/false: whether the session is encrypted, or the failure. */
    const connect = async (host: string, query: string) => {
      const url = `postgres://postgres@${host}:${server.port}/postgres?${query}`
      const client = new pg.Client(poolSettings(config, url).config)
      client.on('error', () => {})
      try {
        await client.connect()
        const { rows } = await client.query(
          'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
        )
        return rows[0]?.ssl as boolean
      } catch (error) {
        return (error as Error).message
      } finally {
        await client.end().catch(() => {})
      }
    }
    const cases: Array<[string, string, string, boolean | RegExp]> = [
      ['no sslmode: plain text', '127.0.0.1', 'application_name=t', false],
      ['disable: plain text', '127.0.0.1', 'sslmode=disable', false],
      [
        "allow: plain text (libpq's first try; pg cannot fall back)",
        '127.0.0.1',
        'sslmode=allow',
        false,
      ],
      ['prefer: TLS, certificate not verified', '127.0.0.1', 'sslmode=prefer', true],
      ['require: TLS, certificate not verified', '127.0.0.1', 'sslmode=require', true],
      [
        'require with a root certificate verifies the CA',
        '127.0.0.1',
        `sslmode=require&sslrootcert=${caFile}`,
        true,
      ],
      [
        'require with the wrong root certificate fails',
        '127.0.0.1',
        `sslmode=require&sslrootcert=${otherFile}`,
        /certificate/,
      ],
      [
        'verify-ca: the CA, not the host name',
        '127.0.0.1',
        `sslmode=verify-ca&sslrootcert=${caFile}`,
        true,
      ],
      [
        'verify-ca with the wrong CA fails',
        '127.0.0.1',
        `sslmode=verify-ca&sslrootcert=${otherFile}`,
        /certificate/,
      ],
      [
        'verify-full: the CA and the host name',
        'localhost',
        `sslmode=verify-full&sslrootcert=${caFile}`,
        true,
      ],
      [
        'verify-full with another host name fails',
        '127.0.0.1',
        `sslmode=verify-full&sslrootcert=${caFile}`,
        /Hostname\/IP does not match|altnames/,
      ],
    ]
    for (const [name, host, query, expected] of cases) {
      const got = await connect(host, query)
      if (expected instanceof RegExp) t.match(got, expected, name)
      else t.equal(got, expected, name)
    }
  },
)
