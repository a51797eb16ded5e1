import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  Note,
  NoteCreate,
  NoteList,
  NoteListQuery,
  NoteParams,
  NotePatch,
} from '../notes/schemas.js'
import { createNote, deleteNote, getNote, listNotes, updateNote } from '../notes/store.js'

/** An unknown id: the error plugin answers 404 in the usual shape. */
export class NoteNotFoundError extends Error {
  readonly statusCode = 404
  constructor(id: string) {
    super(`note ${id} not found`)
    this.name = 'NoteNotFoundError'
  }
}

/** The example domain under /api/notes: create, list (cursor pagination), read, update, delete. */
const notes: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app

  app.post(
    '/api/notes',
    { schema: { body: NoteCreate, response: { 201: Note } } },
    async (request, reply) => reply.code(201).send(await createNote(db, request.body)),
  )

  app.get(
    '/api/notes',
    { schema: { querystring: NoteListQuery, response: { 200: NoteList } } },
    async (request) => listNotes(db, request.query),
  )

  app.get(
    '/api/notes/:id',
    { schema: { params: NoteParams, response: { 200: Note } } },
    async (request) => {
      const note = await getNote(db, request.params.id)
      if (!note) throw new NoteNotFoundError(request.params.id)
      return note
    },
  )

  app.patch(
    '/api/notes/:id',
    { schema: { params: NoteParams, body: NotePatch, response: { 200: Note } } },
    async (request) => {
      const note = await updateNote(db, request.params.id, request.body)
      if (!note) throw new NoteNotFoundError(request.params.id)
      return note
    },
  )

  app.delete('/api/notes/:id', { schema: { params: NoteParams } }, async (request, reply) => {
    if (!(await deleteNote(db, request.params.id))) {
      throw new NoteNotFoundError(request.params.id)
    }
    return reply.code(204).send()
  })
}

export default notes
