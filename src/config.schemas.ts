import Type, { type Static } from 'typebox'
import { MAX_LIMIT_MB, MIN_LIMIT_MB } from './memory.js'

/**
 * Every environment variable the app reads. Nothing else in the code base reads process.env.
 * Defaults work locally with no .env file; .env.example documents each one.
 */
export const EnvSchema = Type.Object({
  NODE_ENV: Type.Enum(['development', 'production', 'test'], { default: 'development' }),
  HOST: Type.Optional(Type.String({ minLength: 1 })),
  PORT: Type.Integer({ default: 10000, minimum: 0, maximum: 65535 }),
  RENDER: Type.Optional(Type.String()),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    default: 'info',
  }),
  // Share of ordinary requests that get a log line (1: every one; 0: none). Unset: 1 outside
  // production, 0.01 in production. Errors (5xx but 503) and slow requests are always logged.
  REQUEST_LOG_SAMPLE: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  REQUEST_LOG_SLOW_MS: Type.Integer({ default: 1000, minimum: 0 }),
  TRUST_PROXY_HOPS: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
  MEMORY_LIMIT_MB: Type.Optional(Type.Integer({ minimum: MIN_LIMIT_MB, maximum: MAX_LIMIT_MB })),
  STATUS_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ default: 25000, minimum: 1000, maximum: 600000 }),
  EVENT_LOOP_DELAY_MAX_MS: Type.Integer({ default: 1000, minimum: 0 }),
  LEAK_GUARD_WINDOW_MS: Type.Integer({ default: 60000, minimum: 100 }),

  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  PG_POOL_MAX: Type.Integer({ default: 5, minimum: 1, maximum: 100 }),
  PG_STATEMENT_TIMEOUT_MS: Type.Integer({ default: 10000, minimum: 100 }),
  // How long the start keeps retrying an unreachable Postgres (below the 120 s plugin timeout).
  DB_STARTUP_RETRY_MS: Type.Integer({ default: 60000, minimum: 0, maximum: 110000 }),
  PGLITE_DATA_DIR: Type.String({ default: '.data/pglite', minLength: 1 }),

  // redis-only: start
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  REDIS_MAX_CONNECTIONS: Type.Integer({ default: 10, minimum: 1, maximum: 50 }),
  REDIS_COMMAND_TIMEOUT_MS: Type.Integer({ default: 250, minimum: 10, maximum: 10000 }),
  // Prefix of every key, the invalidation channel and connection names (tests isolate with it).
  REDIS_KEY_PREFIX: Type.String({ default: 'freetier', pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
  // redis-only: end

  CACHE_VIEWS_TTL: Type.Integer({ default: 300, minimum: 1 }),
  CACHE_QUERIES_TTL: Type.Integer({ default: 600, minimum: 1 }),
  CACHE_L1: Type.Boolean({ default: true }),
  CACHE_L2_MAX_VALUE_BYTES: Type.Integer({ default: 131072, minimum: 1024 }),

  RATE_LIMIT_MAX: Type.Integer({ default: 300, minimum: 1 }),
  RATE_LIMIT_WINDOW: Type.String({ default: '1 minute', minLength: 1 }),
  RATE_LIMIT_SYNC_MS: Type.Integer({ default: 100, minimum: 10, maximum: 60000 }),

  // Unset: from the CPU quota (src/cpu.ts): 1 below one core, else 2.
  WORKER_THREADS: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  WORKER_MAX_TASKS: Type.Integer({ default: 500, minimum: 1 }),
  WORKER_IDLE_TIMEOUT_MS: Type.Integer({ default: 30000, minimum: 100 }),
  WORKER_TASK_TIMEOUT_MS: Type.Integer({ default: 10000, minimum: 10 }),
  WORKER_MAX_QUEUE: Type.Integer({ default: 32, minimum: 0 }),

  // Comma-separated origins allowed to call the API from a browser; unset: same-origin only.
  CORS_ORIGINS: Type.Optional(Type.String()),
  SECURITY_HEADERS: Type.Boolean({ default: true }),
})

export type Env = Static<typeof EnvSchema>
