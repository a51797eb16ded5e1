import { type Config, loadConfig } from '../../src/config.js'
import { type MemoryPlan, planMemory } from '../../src/memory.js'

/**
 * What every in-process test gets unless the test says otherwise: an explicit memory limit, no
 * shedding by event-loop delay and a Redis command timeout a busy machine cannot outlast (both
 * would measure the other work on the machine, not the app; the tests of those behaviours set
 * their own values).
 */
export const TEST_ENV = {
  NODE_ENV: 'test',
  MEMORY_LIMIT_MB: '512',
  EVENT_LOOP_DELAY_MAX_MS: '0',
  REDIS_COMMAND_TIMEOUT_MS: '2000',
}

/** A validated config for in-process tests (TEST_ENV, silent). */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ ...TEST_ENV, LOG_LEVEL: 'silent', ...env })
}

export function testPlan(config: Config): MemoryPlan {
  return planMemory({ envLimitMb: config.MEMORY_LIMIT_MB })
}
