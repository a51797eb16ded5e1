import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export interface DependencyState {
  status: 'up' | 'down'
  /** A required dependency that is down makes /readyz answer 503. */
  required: boolean
  latencyMs?: number
  error?: string
}

export type ReadinessCheck = () => Promise<Pick<DependencyState, 'status' | 'error'>>
export type StatusSection = () => unknown

export interface Readiness {
  ready: boolean
  dependencies: Record<string, DependencyState>
}

/**
 * The registry behind /readyz and /status: each plugin registers its own dependency check and
 * status section, so the routes never import clients.
 */
export interface Probes {
  /** `required: false` reports the dependency without failing readiness (e.g. a cache). */
  addReadiness(name: string, check: ReadinessCheck, options?: { required?: boolean }): void
  addStatus(name: string, section: StatusSection): void
  readiness(): Promise<Readiness>
  status(): Promise<Record<string, unknown>>
}

declare module 'fastify' {
  interface FastifyInstance {
    probes: Probes
  }
}

const CHECK_TIMEOUT_MS = 2000

async function runCheck(check: ReadinessCheck, required: boolean): Promise<DependencyState> {
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<Pick<DependencyState, 'status' | 'error'>>((resolve) => {
    timer = setTimeout(
      () => resolve({ status: 'down', error: `no answer in ${CHECK_TIMEOUT_MS}ms` }),
      CHECK_TIMEOUT_MS,
    )
  })
  try {
    const state = await Promise.race([check(), timeout])
    return { ...state, required, latencyMs: Math.round(performance.now() - started) }
  } catch (error) {
    return { status: 'down', required, error: (error as Error).message }
  } finally {
    clearTimeout(timer)
  }
}

async function probes(app: FastifyInstance) {
  const checks = new Map<string, { check: ReadinessCheck; required: boolean }>()
  const sections = new Map<string, StatusSection>()

  app.decorate('probes', {
    addReadiness(name, check, options) {
      checks.set(name, { check, required: options?.required ?? true })
    },
    addStatus(name, section) {
      sections.set(name, section)
    },
    async readiness() {
      const entries = await Promise.all(
        [...checks].map(
          async ([name, { check, required }]) => [name, await runCheck(check, required)] as const,
        ),
      )
      const dependencies = Object.fromEntries(entries)
      const ready = entries.every(([, s]) => s.status === 'up' || !s.required)
      return { ready, dependencies }
    },
    async status() {
      const entries = await Promise.all(
        [...sections].map(async ([name, section]) => [name, await section()] as const),
      )
      return Object.fromEntries(entries)
    },
  } satisfies Probes)
}

export default fp(probes, { name: 'probes' })
