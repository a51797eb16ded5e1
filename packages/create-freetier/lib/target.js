// @ts-check
/**
 * The target directory: what is there, and writing the app into it all at once. The app is
 * assembled in a staging directory beside the target and moved into place at the end, so an
 * error leaves nothing behind.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/**
 * `empty` also covers a directory that holds only .git.
 * @param {string} dir
 * @returns {'missing' | 'empty' | 'not-empty' | 'not-a-directory'}
 */
export function targetState(dir) {
  let stat
  try {
    stat = fs.statSync(dir)
  } catch {
    return 'missing'
  }
  if (!stat.isDirectory()) return 'not-a-directory'
  return fs.readdirSync(dir).some((entry) => entry !== '.git') ? 'not-empty' : 'empty'
}

/**
 * The closest directory that exists at or above `dir` (where the staging directory goes).
 * @param {string} dir
 */
export function existingAncestor(dir) {
  let current = dir
  while (!fs.existsSync(current)) current = path.dirname(current)
  return current
}

/**
 * A new directory beside `dir` for assembling the app. Made with mkdir's default mode (0777
 * less the umask), not mkdtemp's 0700: it becomes the app's directory.
 * @param {string} dir the target
 */
export function makeStage(dir) {
  const parent = existingAncestor(path.dirname(dir))
  const stage = path.join(parent, `.create-freetier-${randomBytes(6).toString('hex')}`)
  fs.mkdirSync(stage)
  return stage
}

/**
 * Writes every file of the app under `dir`.
 * @param {string} dir
 * @param {import('./template.js').Template} files
 */
export function writeFiles(dir, files) {
  for (const [file, { text, base64, executable }] of Object.entries(files)) {
    const full = path.join(dir, file)
    fs.mkdirSync(path.dirname(full), { recursive: true })
    fs.writeFileSync(full, base64 ? Buffer.from(text, 'base64') : text, {
      mode: executable ? 0o777 : 0o666,
    })
  }
}

/**
 * Moves the staged app into the target directory. Existing entries (when overwriting) are set
 * aside first and deleted only once the new ones are in place.
 * @param {string} stage
 * @param {{ dir: string, state: string }} target
 */
export function moveIntoPlace(stage, target) {
  if (target.state === 'missing') {
    fs.mkdirSync(path.dirname(target.dir), { recursive: true })
    fs.renameSync(stage, target.dir)
    return
  }
  const old = `${stage}-old`
  const existing = fs.readdirSync(target.dir).filter((entry) => entry !== '.git')
  const keepGit = fs.existsSync(path.join(target.dir, '.git'))
  const incoming = fs.readdirSync(stage).filter((entry) => !(keepGit && entry === '.git'))
  /** @type {string[]} */
  const moved = []
  fs.mkdirSync(old)
  try {
    for (const entry of existing) {
      fs.renameSync(path.join(target.dir, entry), path.join(old, entry))
    }
    for (const entry of incoming) {
      fs.renameSync(path.join(stage, entry), path.join(target.dir, entry))
      moved.push(entry)
    }
  } catch (error) {
    // Put the directory back as it was.
    for (const entry of moved)
      fs.rmSync(path.join(target.dir, entry), { recursive: true, force: true })
    for (const entry of fs.readdirSync(old)) {
      fs.renameSync(path.join(old, entry), path.join(target.dir, entry))
    }
    throw error
  }
  fs.rmSync(stage, { recursive: true, force: true })
  fs.rmSync(old, { recursive: true, force: true })
}
