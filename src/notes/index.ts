import type { FastifyPluginAsync } from 'fastify'
import { taskModule } from '../workers/tasks.js'
import htmlRoute from './html-route.js'
import type render from './render.task.js'
import routes from './routes.js'

declare module '../workers/tasks.js' {
  interface WorkerTasks {
    'notes.render': typeof render
  }
}

/**
 * The example domain, whole: the /api/notes routes, the HTML view rendered on the worker pool,
 * its cache keys, store and migration (src/notes/migrations). app.ts registers it in one line;
 * delete this folder and that line to start from a clean app.
 */
const notes: FastifyPluginAsync = async (app) => {
  app.workers.define('notes.render', taskModule('notes/render.task'))
  await app.register(routes)
  await app.register(htmlRoute)
}

export default notes
