// @ts-check
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const ROOT = path.resolve(PACKAGE, '..', '..')
export const CREATE = path.join(PACKAGE, 'create.js')

/**
 * @typedef {{ code: number | null, stdout: string, stderr: string }} Result
 * @param {string} cmd
 * @param {string[]} args
 * @param {import('node:child_process').SpawnOptions} [options]
 * @returns {Promise<Result>}
 */
export function run(cmd, args, options = {}) {
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
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/**
 * The scaffolder from this checkout, without a terminal (so: non-interactive).
 * @param {string[]} args
 * @param {string} cwd
 * @param {Record<string, string>} [env]
 */
export function create(args, cwd, env = {}) {
  return run(process.execPath, [CREATE, ...args], { cwd, env: { ...process.env, ...env } })
}

/**
 * A temporary directory removed after the test.
 * @param {import('node:test').TestContext} t
 * @param {string} label
 */
export function tempDir(t, label) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `create-freetier-${label}-`))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * Every file under dir (relative paths, sorted), skipping some top-level entries.
 * @param {string} dir
 * @param {string[]} [skip]
 * @returns {string[]}
 */
export function listFiles(dir, skip = []) {
  /** @type {string[]} */
  const out = []
  /** @param {string} rel */
  const walk = (rel) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name
      if (!rel && skip.includes(entry.name)) continue
      if (entry.isDirectory()) walk(child)
      else out.push(child)
    }
  }
  walk('')
  return out.sort()
}
