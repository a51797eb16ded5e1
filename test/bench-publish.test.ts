import t from 'tap'
import { replaceSection } from '../scripts/bench-publish.js'

// Template-only tooling (scripts/bench-publish.ts): not part of an app made from the template.
t.test('section replacement keeps everything outside the markers', async (t) => {
  const text = 'top\n<!-- section:x -->\nold\n<!-- section:x-end -->\nbottom\n'
  const next = replaceSection(text, 'x', 'new body\n')
  t.equal(next, 'top\n<!-- section:x -->\nnew body\n<!-- section:x-end -->\nbottom\n')
  t.equal(replaceSection(next, 'x', 'new body'), next, 'idempotent')
  t.throws(
    () => replaceSection('no markers', 'x', 'y'),
    /no <!-- section:x --> \.\.\. <!-- section:x-end --> markers/,
  )
  t.throws(() => replaceSection(text, 'y', 'z'), /section:y/, 'another section name does not match')
})
