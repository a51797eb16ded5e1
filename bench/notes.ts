import { prng } from './stats.js'

/** The fields POST /api/notes takes. */
export interface NoteInput {
  title: string
  body: string
}

const WORDS = (
  'cache pool worker memory limit request latency deploy render postgres redis queue shed ' +
  'heap thread index cursor page note draft review release budget metric trace span retry ' +
  'timeout signal drain graceful health ready status token proxy edge header body title ' +
  'markdown render sanitize escape link list table code block quote the a of to and in for ' +
  'with on is it that this by as be from at or we can will should must not only when then'
).split(' ')

function words(next: () => number, count: number): string {
  const out: string[] = []
  for (let i = 0; i < count; i++) out.push(WORDS[Math.floor(next() * WORDS.length)] as string)
  return out.join(' ')
}

const sentence = (next: () => number) => {
  const text = words(next, 6 + Math.floor(next() * 14))
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`
}

const paragraph = (next: () => number) =>
  Array.from({ length: 2 + Math.floor(next() * 4) }, () => sentence(next)).join(' ')

/**
 * A realistic note: a short title and a markdown body of a few hundred bytes to a few KB with
 * headings, paragraphs, lists, links, emphasis and the odd code block or raw HTML to sanitize.
 * Deterministic per index.
 */
export function makeNote(index: number): NoteInput {
  const next = prng(index + 1)
  const parts: string[] = [`# ${words(next, 3)}`, paragraph(next)]
  const sections = 1 + Math.floor(next() * 4)
  for (let s = 0; s < sections; s++) {
    parts.push(`## ${words(next, 2 + Math.floor(next() * 3))}`)
    const kind = Math.floor(next() * 5)
    if (kind === 0) {
      parts.push(
        Array.from({ length: 3 + Math.floor(next() * 4) }, () => `- ${words(next, 5)}`).join('\n'),
      )
    } else if (kind === 1) {
      parts.push(
        `\`\`\`ts\nconst ${words(next, 1)} = await app.${words(next, 1)}(${index})\n\`\`\``,
      )
    } else if (kind === 2) {
      parts.push(
        `See [the ${words(next, 2)}](https://example.com/${index}/${s}) and **${words(next, 2)}**.`,
      )
    } else if (kind === 3) {
      parts.push(`<img src=x onerror="alert(${index})"> ${paragraph(next)}`)
    } else {
      parts.push(`> ${sentence(next)}\n\n${paragraph(next)}`)
    }
    parts.push(paragraph(next))
  }
  const title = `${words(next, 2 + Math.floor(next() * 5))} #${index}`
  return { title: title.charAt(0).toUpperCase() + title.slice(1), body: parts.join('\n\n') }
}
