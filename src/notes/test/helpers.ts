import type { App } from '../../app.js'

/** Creates a note through the API; throws unless it answered 201. */
export async function createNote(app: App, title: string, body = '') {
  const res = await app.inject({ method: 'POST', url: '/api/notes', payload: { title, body } })
  if (res.statusCode !== 201) throw new Error(`create answered ${res.statusCode}: ${res.body}`)
  return res.json() as { id: string; title: string }
}
