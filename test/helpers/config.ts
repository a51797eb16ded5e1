import { type Config, loadConfig } from '../../src/config.js'
import { type MemoryPlan, planMemory } from '../../src/memory.js'

/** A validated config for in-process tests: quiet logs, explicit memory limit, test routes on. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', MEMORY_LIMIT_MB: '512', ...env })
}

export function testPlan(config: Config): MemoryPlan {
  return planMemory({ envLimitMb: config.MEMORY_LIMIT_MB })
}
