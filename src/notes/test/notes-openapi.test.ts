import t from 'tap'
import { buildAppOnFileDatabase } from '../../../test/helpers/app.js'

t.test('/openapi.json documents the notes routes from their schemas', async (t) => {
  const app = await buildAppOnFileDatabase(t)
  const document = (await app.inject('/openapi.json')).json()
  const read = document.paths['/api/notes/{id}'].get
  t.match(read.parameters, [
    { in: 'path', name: 'id', required: true, schema: { pattern: /0-9a-f/ } },
  ])
  t.match(read.responses['200'].headers['x-cache'].schema, { enum: ['l1', 'l2', 'miss'] })
  t.match(read.responses['503'].content['application/json'].schema, {
    properties: { dependency: {}, statusCode: {}, message: {} },
  })
  t.match(read.responses['400'].content['application/json'].schema.properties.issues, {
    type: 'array',
  })
  const create = document.paths['/api/notes'].post
  t.match(create.requestBody.content['application/json'].schema, { required: ['title'] })
  t.ok(document.paths['/api/notes/{id}/html'].get.responses['200'].headers['x-cache'])
})
