import { type Queryable, query } from '../db/query.js'
import { InvalidInputError } from '../errors.js'
import { UUID_PATTERN } from '../schemas.js'
import {
  BODY_MAX_BYTES,
  type Note,
  type NoteCreate,
  type NoteList,
  type NotePatch,
} from './schemas.js'

/**
 * The notes domain on Postgres: plain functions over a pg Pool or client, parameterized SQL
 * only. An outage surfaces as DependencyUnavailableError('postgres') (a 503), not a 500.
 */

interface NoteRow {
  id: string
  title: string
  body: string
  created_at: Date
  updated_at: Date
  /** created_at to the microsecond, for the cursor (a JS Date keeps only milliseconds). */
  created_key: string
}

const COLUMNS = `id, title, body, created_at, updated_at,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_key`

const toNote = (row: NoteRow): Note => ({
  id: row.id,
  title: row.title,
  body: row.body,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
})

const UUID = new RegExp(UUID_PATTERN)
const TIMESTAMP = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/

/** A real instant Postgres accepts: the calendar date and time exist (no month 13, no year 0). */
function isRealTimestamp(text: string): boolean {
  const year = TIMESTAMP.exec(text)?.[1]
  if (year === undefined || year === '0000') return false
  const millis = Date.parse(`${text.slice(0, 23)}Z`)
  // Date.parse rolls some impossible dates over (Feb 30 -> Mar 2): the round trip catches them.
  return (
    Number.isFinite(millis) && new Date(millis).toISOString().slice(0, 19) === text.slice(0, 19)
  )
}

export function encodeCursor(createdKey: string, id: string): string {
  return Buffer.from(`${createdKey}|${id}`).toString('base64url')
}

export function decodeCursor(cursor: string): { createdKey: string; id: string } {
  const [createdKey = '', id = '', ...rest] = Buffer.from(cursor, 'base64url')
    .toString('utf8')
    .split('|')
  if (rest.length > 0 || !isRealTimestamp(createdKey) || !UUID.test(id)) {
    throw new InvalidInputError(
      'querystring',
      'cursor',
      'format',
      'is not a cursor this API returned',
    )
  }
  return { createdKey, id }
}

/** The schema bounds characters; the limit is bytes (UTF-8), checked before anything is written. */
function checkBodySize(body: string | undefined) {
  if (body !== undefined && Buffer.byteLength(body) > BODY_MAX_BYTES) {
    throw new InvalidInputError(
      'body',
      'body',
      'maxBytes',
      `must NOT be longer than ${BODY_MAX_BYTES} bytes (UTF-8)`,
    )
  }
}

export async function createNote(db: Queryable, input: NoteCreate): Promise<Note> {
  checkBodySize(input.body)
  const { rows } = await query<NoteRow>(
    db,
    `INSERT INTO notes (title, body) VALUES ($1, $2) RETURNING ${COLUMNS}`,
    [input.title, input.body ?? ''],
    ['body/title', 'body/body'],
  )
  return toNote(rows[0] as NoteRow)
}

/**
 * What a note counts for in a page's byte bound: its text as Postgres stores it (octet_length
 * reads a value's size without fetching it) plus its JSON's fixed part (keys, id, dates).
 */
const NOTE_JSON_OVERHEAD_BYTES = 160

/**
 * One page, newest first, within `limit` rows and `maxBytes` bytes (the first note always,
 * whatever its size), with one look-ahead row: the running byte total is computed over the
 * index order, so Postgres stops at the limit and the bodies past the bound are never read.
 */
const pageQuery = (where: string, limit: string, maxBytes: string) => `
  SELECT ${COLUMNS}, (n = 1 OR upto <= ${maxBytes}) AS fits FROM (
    SELECT *, row_number() OVER w AS n, sum(bytes) OVER w AS upto FROM (
      SELECT *, octet_length(title) + octet_length(body) + ${NOTE_JSON_OVERHEAD_BYTES} AS bytes
      FROM notes ${where}
    ) sized
    WINDOW w AS (ORDER BY created_at DESC, id DESC)
    ORDER BY created_at DESC, id DESC LIMIT ${limit}
  ) page
  WHERE n = 1 OR upto - bytes <= ${maxBytes}
  ORDER BY created_at DESC, id DESC`

/**
 * Newest first. Keyset pagination on (created_at, id): no duplicates or gaps across pages. A
 * page ends at `limit` notes or at `maxBytes` (estimated from the stored sizes), whichever comes
 * first; its `nextCursor` continues after its last note.
 */
export async function listNotes(
  db: Queryable,
  options: { limit: number; cursor?: string; maxBytes: number },
): Promise<NoteList> {
  const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor)
  // One row more than asked tells whether there is a next page.
  const { rows } = after
    ? await query<NoteRow & { fits: boolean }>(
        db,
        pageQuery('WHERE (created_at, id) < ($1::timestamptz, $2::uuid)', '$3', '$4'),
        [after.createdKey, after.id, options.limit + 1, options.maxBytes],
        ['querystring/cursor', 'querystring/cursor'],
      )
    : await query<NoteRow & { fits: boolean }>(db, pageQuery('', '$1', '$2'), [
        options.limit + 1,
        options.maxBytes,
      ])
  const page = rows.filter((row) => row.fits).slice(0, options.limit)
  const last = page.at(-1)
  return {
    items: page.map(toNote),
    nextCursor: rows.length > page.length && last ? encodeCursor(last.created_key, last.id) : null,
  }
}

export async function getNote(db: Queryable, id: string): Promise<Note | undefined> {
  const { rows } = await query<NoteRow>(
    db,
    `SELECT ${COLUMNS} FROM notes WHERE id = $1`,
    [id],
    ['params/id'],
  )
  return rows[0] && toNote(rows[0])
}

/** Changes only the fields given. Undefined when there is no such note. */
export async function updateNote(
  db: Queryable,
  id: string,
  patch: NotePatch,
): Promise<Note | undefined> {
  checkBodySize(patch.body)
  const { rows } = await query<NoteRow>(
    db,
    `UPDATE notes SET title = COALESCE($2, title), body = COALESCE($3, body),
       updated_at = clock_timestamp()
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, patch.title ?? null, patch.body ?? null],
    ['params/id', 'body/title', 'body/body'],
  )
  return rows[0] && toNote(rows[0])
}

/** True when a note was deleted. */
export async function deleteNote(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await query(db, 'DELETE FROM notes WHERE id = $1', [id], ['params/id'])
  return (rowCount ?? 0) > 0
}
