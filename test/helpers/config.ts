import { type Config, loadConfig } from '../../src/config.js'
import { type MemoryPlan, planMemory } from '../../src/memory.js'

/**
 * What every test process gets unless the test says otherwise: quiet logs, an explicit memory
 * limit, and no shedding by event-loop delay (on a busy machine the delay measures the other
 * work on it, not the app; the load-shedding tests turn it on themselves).
 */
export const TEST_ENV = { NODE_ENV: 'test', MEMORY_LIMIT_MB: '512', EVENT_LOOP_DELAY_MAX_MS: '0' }

/** A validated config for in-process tests (TEST_ENV, silent). */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ ...TEST_ENV, LOG_LEVEL: 'silent', ...env })
}

export function testPlan(config: Config): MemoryPlan {
  return planMemory({ envLimitMb: config.MEMORY_LIMIT_MB })
}
