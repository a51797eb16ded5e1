import Type, { type Static } from 'typebox'
import { Text, Uuid } from '../schemas.js'

export const TITLE_MAX_CHARS = 200
/** The body is markdown of at most 64 KiB (bytes, UTF-8); the schema bounds characters first. */
export const BODY_MAX_BYTES = 64 * 1024
export const LIST_LIMIT_DEFAULT = 20
export const LIST_LIMIT_MAX = 100

const Title = Text({ minLength: 1, maxLength: TITLE_MAX_CHARS })
const Body = Text({ maxLength: BODY_MAX_BYTES })

export const NoteId = Uuid()

export const Note = Type.Object({
  id: NoteId,
  title: Type.String(),
  body: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
})
export type Note = Static<typeof Note>

export const NoteCreate = Type.Object(
  { title: Title, body: Type.Optional(Body) },
  { additionalProperties: false },
)
export type NoteCreate = Static<typeof NoteCreate>

export const NotePatch = Type.Object(
  { title: Type.Optional(Title), body: Type.Optional(Body) },
  { additionalProperties: false, minProperties: 1 },
)
export type NotePatch = Static<typeof NotePatch>

export const NoteParams = Type.Object({ id: NoteId })

export const NoteDeleted = Type.Null({ description: 'deleted' })

export const NoteHtml = Type.String({ description: 'an HTML fragment (text/html)' })

export const NoteListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: LIST_LIMIT_MAX, default: LIST_LIMIT_DEFAULT }),
    /** Opaque: the `nextCursor` of the previous page. */
    cursor: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' }),
    ),
  },
  { additionalProperties: false },
)
export type NoteListQuery = Static<typeof NoteListQuery>

export const NoteList = Type.Object({
  items: Type.Array(Note),
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: Type.Union([Type.String(), Type.Null()]),
})
export type NoteList = Static<typeof NoteList>
