import type { Cache } from '../plugins/cache.js'
import type { NoteListQuery } from './schemas.js'

/**
 * The notes' cache keys, in one place: reads use them, writes invalidate exactly them.
 * - `queries` `note:<id>`: one note;
 * - `queries` `notes:list:<limit>:<cursor>`: a list page, tagged `notes:list` (every page shifts
 *   when a note is created, renamed or deleted);
 * - `views` `note:<id>:html`: the note rendered to HTML, tagged `note:<id>` like every view of it.
 */
export const noteKey = (id: string) => `note:${id}`
export const listKey = (query: NoteListQuery) => `notes:list:${query.limit}:${query.cursor ?? ''}`
export const LIST_TAG = 'notes:list'
export const noteViewsTag = (id: string) => `note:${id}`
export const noteHtmlKey = (id: string) => `note:${id}:html`

/** After a write: the note itself (when it existed before), its views, and every list page. */
export async function invalidateNote(cache: Cache, id?: string): Promise<void> {
  await Promise.all([
    cache.queries.invalidate({ keys: id ? [noteKey(id)] : [], tags: [LIST_TAG] }),
    id ? cache.views.invalidate({ tags: [noteViewsTag(id)] }) : undefined,
  ])
}
