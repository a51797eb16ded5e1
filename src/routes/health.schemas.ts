import Type from 'typebox'

const DependencyState = Type.Object({
  status: Type.Enum(['up', 'down']),
  required: Type.Boolean(),
  latencyMs: Type.Optional(Type.Number()),
  error: Type.Optional(Type.String()),
})

export const Readiness = Type.Object({
  ready: Type.Boolean(),
  dependencies: Type.Record(Type.String(), DependencyState),
})

export const Unauthorized = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
})

export const Healthz = Type.Object({ status: Type.Literal('ok') })

export const StatusHeaders = Type.Object({ authorization: Type.Optional(Type.String()) })

export const Status = Type.Object({}, { additionalProperties: true })
