import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { cached, errorResponses } from '../responses.js'
import { invalidateNote, LIST_TAG, listKey, noteKey } from './cache.js'
import {
  Note,
  NoteCreate,
  NoteDeleted,
  NoteList,
  NoteListQuery,
  NoteParams,
  NotePatch,
} from './schemas.js'
import { createNote, deleteNote, getNote, listNotes, updateNote } from './store.js'

/** An unknown id: the error plugin answers 404 in the usual shape. */
export class NoteNotFoundError extends Error {
  readonly statusCode = 404
  constructor(id: string) {
    super(`note ${id} not found`)
    this.name = 'NoteNotFoundError'
  }
}

/**
 * The example domain under /api/notes: create, list (cursor pagination), read, update, delete.
 * Reads go through the `queries` cache (`x-cache: l1|l2|miss`); each write invalidates what it
 * changed before it answers, so the writer's next read is never stale.
 */
const notes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, cache } = app
  const { pageBytes } = app.memoryPlan

  app.post(
    '/api/notes',
    {
      schema: {
        tags: ['notes'],
        summary: 'Create a note',
        body: NoteCreate,
        response: { 201: Note, ...errorResponses(400, 413, 429, 503) },
      },
    },
    async (request, reply) => {
      const note = await createNote(db, request.body)
      await invalidateNote(cache)
      return reply.code(201).send(note)
    },
  )

  // Reads are cached as the text the route's response schema makes (`reply.cacheText`): loaded
  // and serialized once, then sent as they are from either tier (`reply.sendCached`).
  app.get(
    '/api/notes',
    {
      schema: {
        tags: ['notes'],
        summary: 'List notes, newest first (cursor pagination)',
        querystring: NoteListQuery,
        response: { 200: cached(NoteList), ...errorResponses(400, 429, 503) },
      },
    },
    async (request, reply) => {
      const page = await cache.queries.getOrLoad(
        listKey(request.query),
        async () => {
          // A page carries at most pageBytes: hold them before Postgres sends its rows.
          request.reserveMemory(pageBytes)
          return reply.cacheText(await listNotes(db, { ...request.query, maxBytes: pageBytes }))
        },
        { tags: [LIST_TAG] },
      )
      return reply.sendCached(page)
    },
  )

  app.get(
    '/api/notes/:id',
    {
      schema: {
        tags: ['notes'],
        summary: 'Read a note',
        params: NoteParams,
        response: { 200: cached(Note), ...errorResponses(400, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const { id } = request.params
      // An unknown id loads undefined, which is not cached: creating it later needs no purge.
      const note = await cache.queries.getOrLoad(noteKey(id), async () => {
        const found = await getNote(db, id)
        return found && reply.cacheText(found)
      })
      if (!note) throw new NoteNotFoundError(id)
      return reply.sendCached(note)
    },
  )

  app.patch(
    '/api/notes/:id',
    {
      schema: {
        tags: ['notes'],
        summary: 'Change a note (the fields given)',
        params: NoteParams,
        body: NotePatch,
        response: { 200: Note, ...errorResponses(400, 404, 413, 429, 503) },
      },
    },
    async (request) => {
      const note = await updateNote(db, request.params.id, request.body)
      if (!note) throw new NoteNotFoundError(request.params.id)
      await invalidateNote(cache, note.id)
      return note
    },
  )

  const deleteSchema = {
    tags: ['notes'],
    summary: 'Delete a note',
    params: NoteParams,
    response: { 204: NoteDeleted, ...errorResponses(400, 404, 429, 503) },
  }
  app.delete('/api/notes/:id', { schema: deleteSchema }, async (request, reply) => {
    if (!(await deleteNote(db, request.params.id))) {
      throw new NoteNotFoundError(request.params.id)
    }
    await invalidateNote(cache, request.params.id)
    return reply.code(204).send(null)
  })
}

export default notes
