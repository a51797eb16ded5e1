import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { cached, errorResponses } from '../responses.js'
import { noteHtmlKey, noteViewsTag } from './cache.js'
import { escapeHtml } from './escape-html.js'
import { NoteNotFoundError } from './routes.js'
import { NoteHtml, NoteParams } from './schemas.js'
import { getNote } from './store.js'

/**
 * The rendered page allows nothing active even if the renderer let something through: no
 * script, style, frame or form; images only over http(s).
 */
const CONTENT_SECURITY_POLICY = "default-src 'none'; img-src http: https:; base-uri 'none'"

/**
 * GET /api/notes/:id/html: the note's markdown rendered to safe HTML on the worker pool,
 * kept in the `views` cache (`x-cache: l1|l2|miss`) under the note's views tag, which every
 * write to the note invalidates (src/notes/cache.ts).
 */
const notesHtml: FastifyPluginAsyncTypebox = async (app) => {
  const { db, workers, cache } = app

  app.get(
    '/api/notes/:id/html',
    {
      schema: {
        tags: ['notes'],
        summary: 'A note rendered to HTML on the worker pool',
        params: NoteParams,
        response: {
          200: cached(NoteHtml),
          ...errorResponses(400, 404, 429, 503, 504),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params
      // An unknown id throws, which is not cached. The HTML is the cached text itself.
      const html = await cache.views.getOrLoad(
        noteHtmlKey(id),
        async () => {
          let title = ''
          // The note is loaded once the render has its place in the pool: a full pool answers
          // 503 before a query is made (on 0.1 CPU, loads for refused renders starve the rest).
          const body = await workers.run('notes.render', async () => {
            const note = await getNote(db, id)
            if (!note) throw new NoteNotFoundError(id)
            title = note.title
            return { markdown: note.body }
          })
          return `<article>\n<h1>${escapeHtml(title)}</h1>\n${body}</article>\n`
        },
        { tags: [noteViewsTag(id)] },
      )
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', CONTENT_SECURITY_POLICY)
        .header('x-content-type-options', 'nosniff')
        .sendCached(html)
    },
  )
}

export default notesHtml
