import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface Pem {
  cert: string
  key: string
}

/**
 * A certificate authority made for one test (openssl), and certificates it signs: enough to
 * test TLS verification modes against a real server without any real CA.
 */
export async function makeCa(
  name: string,
): Promise<Pem & { issue(dnsName: string): Promise<Pem> }> {
  const dir = await mkdtemp(join(tmpdir(), 'freetier-tls-'))
  try {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      join(dir, 'ca.key'),
      '-out',
      join(dir, 'ca.crt'),
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
    ])
    const ca = {
      cert: await readFile(join(dir, 'ca.crt'), 'utf8'),
      key: await readFile(join(dir, 'ca.key'), 'utf8'),
    }
    return {
      ...ca,
      async issue(dnsName: string) {
        const work = await mkdtemp(join(tmpdir(), 'freetier-tls-'))
        try {
          await writeFile(join(work, 'ca.crt'), ca.cert)
          await writeFile(join(work, 'ca.key'), ca.key)
          await writeFile(join(work, 'ext'), `subjectAltName=DNS:${dnsName}\n`)
          await run('openssl', [
            'req',
            '-newkey',
            'rsa:2048',
            '-nodes',
            '-subj',
            `/CN=${dnsName}`,
            '-keyout',
            join(work, 'server.key'),
            '-out',
            join(work, 'server.csr'),
          ])
          await run('openssl', [
            'x509',
            '-req',
            '-in',
            join(work, 'server.csr'),
            '-days',
            '2',
            '-CA',
            join(work, 'ca.crt'),
            '-CAkey',
            join(work, 'ca.key'),
            '-CAcreateserial',
            '-extfile',
            join(work, 'ext'),
            '-out',
            join(work, 'server.crt'),
          ])
          return {
            cert: await readFile(join(work, 'server.crt'), 'utf8'),
            key: await readFile(join(work, 'server.key'), 'utf8'),
          }
        } finally {
          await rm(work, { recursive: true, force: true })
        }
      },
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
