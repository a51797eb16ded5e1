#!/usr/bin/env node
// @ts-check
/**
 * Writes template.json: the app as the repository tracks it (lib/template.js says what is left
 * out), for the packed package. Runs on `npm pack` / `npm publish` (prepack); `--remove`
 * deletes it again (postpack), so a checkout always scaffolds from its own working tree.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { templateFromCheckout } from './lib/template.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const out = path.join(here, 'template.json')
if (process.argv.includes('--remove')) {
  fs.rmSync(out, { force: true })
} else {
  const template = templateFromCheckout(path.resolve(here, '..', '..'))
  fs.writeFileSync(out, `${JSON.stringify(template)}\n`)
  const bytes = fs.statSync(out).size
  process.stderr.write(`template.json: ${Object.keys(template).length} files, ${bytes} bytes\n`)
}
