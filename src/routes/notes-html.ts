import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { NoteParams } from '../notes/schemas.js'
import { getNote } from '../notes/store.js'
import { NoteNotFoundError } from './notes.js'

/**
 * The rendered page allows nothing active even if something slipped past the sanitizer: no
 * script, style, frame or form; images only over http(s).
 */
const CONTENT_SECURITY_POLICY = "default-src 'none'; img-src http: https:; base-uri 'none'"

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string)

/** GET /api/notes/:id/html: the note's markdown rendered to sanitized HTML on the worker pool. */
const notesHtml: FastifyPluginAsyncTypebox = async (app) => {
  const { db, workers } = app

  app.get(
    '/api/notes/:id/html',
    {
      schema: {
        params: NoteParams,
        response: { 200: Type.String({ description: 'an HTML fragment (text/html)' }) },
      },
    },
    async (request, reply) => {
      const note = await getNote(db, request.params.id)
      if (!note) throw new NoteNotFoundError(request.params.id)
      const body = await workers.run('render', { markdown: note.body })
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', CONTENT_SECURITY_POLICY)
        .header('x-content-type-options', 'nosniff')
        .send(`<article>\n<h1>${escapeHtml(note.title)}</h1>\n${body}</article>\n`)
    },
  )
}

export default notesHtml
