import { Marked } from 'marked'
import sanitizeHtml from 'sanitize-html'

export interface RenderInput {
  markdown: string
}

const marked = new Marked({ gfm: true, async: false })

/**
 * An allow-list: markdown's own output plus a little inline HTML. Everything else is dropped
 * (script and style with their contents), every attribute not listed is removed (so no `on*`
 * handler or `style` survives) and links and images keep only http(s) (and mailto for links)
 * URLs, so no `javascript:`, `data:` or `vbscript:` URL does.
 */
const POLICY: sanitizeHtml.IOptions = {
  allowedTags: [
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'br', 'hr', 'blockquote', 'pre', 'code'],
    ...['ul', 'ol', 'li', 'dl', 'dt', 'dd', 'a', 'img', 'strong', 'em', 'del', 's', 'sub'],
    ...['sup', 'kbd', 'mark', 'abbr', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'input'],
    ...['details', 'summary'],
  ],
  allowedAttributes: {
    a: ['href', 'title', 'rel'],
    img: ['src', 'alt', 'title', 'width', 'height'],
    code: ['class'],
    ol: ['start'],
    th: ['align'],
    td: ['align'],
    abbr: ['title'],
    // GFM task lists render as disabled checkboxes.
    input: ['type', 'checked', 'disabled'],
  },
  allowedClasses: { code: ['language-*'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['http', 'https'] },
  allowedSchemesAppliedToAttributes: ['href', 'src', 'cite'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  exclusiveFilter: (frame) => frame.tag === 'input' && frame.attribs.type !== 'checkbox',
  transformTags: {
    a: sanitizeHtml.simpleTransform('a', { rel: 'nofollow noopener noreferrer' }),
    input: sanitizeHtml.simpleTransform('input', { disabled: '' }),
  },
}

/** Markdown -> sanitized HTML. Runs on the worker pool (CPU-bound on large notes). */
export default function render({ markdown }: RenderInput): string {
  return sanitizeHtml(marked.parse(markdown) as string, POLICY)
}
