import { Marked, type Tokens } from 'marked'
import { escapeHtml } from './escape-html.js'

export interface RenderInput {
  markdown: string
}

const LINK_PROTOCOLS = new Set(['http:', 'https:', 'mailto:'])
const IMAGE_PROTOCOLS = new Set(['http:', 'https:'])
const PAGE = 'https://page.invalid/'
const PAGE_ORIGIN = new URL(PAGE).origin

/**
 * The URL if a browser would follow it to an allowed protocol, else undefined. The check uses
 * the WHATWG URL parser, the one browsers use on the attribute, so whitespace, control
 * characters and case inside a scheme (`jav\tascript:`, ` JAVASCRIPT:`) are seen as the browser
 * sees them. A relative reference must stay on the page's origin: `//host` and `\\host` have no
 * scheme of their own to check.
 */
function allowedUrl(href: string, protocols: ReadonlySet<string>): string | undefined {
  const absolute = URL.parse(href)
  if (absolute) return protocols.has(absolute.protocol) ? href : undefined
  return URL.parse(href, PAGE)?.origin === PAGE_ORIGIN ? href : undefined
}

/**
 * Safe by construction rather than sanitized afterwards: every piece of raw HTML in the markdown
 * (block or inline) is shown as text, so the only tags in the output are the ones marked writes
 * for markdown syntax; every attribute value is escaped; links and images keep only allowed
 * protocols (a refused link renders as its text, a refused image as its alt text).
 */
const marked = new Marked({
  gfm: true,
  async: false,
  renderer: {
    html({ text, block }: Tokens.HTML | Tokens.Tag) {
      return block ? `<p>${escapeHtml(text.trimEnd())}</p>\n` : escapeHtml(text)
    },
    link({ href, title, tokens }: Tokens.Link) {
      const content = this.parser.parseInline(tokens)
      const url = allowedUrl(href, LINK_PROTOCOLS)
      if (url === undefined) return content
      const titleAttribute = title ? ` title="${escapeHtml(title)}"` : ''
      return `<a href="${escapeHtml(url)}"${titleAttribute} rel="nofollow noopener noreferrer">${content}</a>`
    },
    image({ href, title, text }: Tokens.Image) {
      const url = allowedUrl(href, IMAGE_PROTOCOLS)
      if (url === undefined) return escapeHtml(text)
      const titleAttribute = title ? ` title="${escapeHtml(title)}"` : ''
      return `<img src="${escapeHtml(url)}" alt="${escapeHtml(text)}"${titleAttribute}>`
    },
  },
})

/** Markdown -> HTML with nothing executable. Runs on the worker pool (CPU-bound on large notes). */
export default function render({ markdown }: RenderInput): string {
  return marked.parse(markdown) as string
}
