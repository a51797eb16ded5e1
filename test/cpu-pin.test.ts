/**
 * Below one core, the process keeps its threads on one core: the CPU lists and the decision on
 * fixtures, then the real thing in a child process (Linux with util-linux's taskset and two or
 * more CPUs; skipped elsewhere, saying why).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { allowedCpus, coreToPin, parseCpuList } from '../src/cpu-pin.js'

t.test('CPU lists', async (t) => {
  t.same(parseCpuList('0-3,6\n'), [0, 1, 2, 3, 6])
  t.same(parseCpuList('1'), [1])
  t.same(parseCpuList('0-1,x'), [], 'anything unreadable: unknown, not a guess')
  t.same(parseCpuList(undefined), [])
  t.same(allowedCpus('Name:\tnode\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n'), [0, 1])
  t.same(allowedCpus('Name:\tnode\n'), [], 'not in the status: unknown')
})

t.test('which core, or why none', async (t) => {
  t.same(coreToPin(0.1, [0, 1, 2, 3], 2), { cpu: 2 }, 'the core it runs on now')
  t.same(coreToPin(0.1, [4, 5], 1), { cpu: 4 }, 'not an allowed one: the first allowed')
  t.same(coreToPin(0.5, [3], undefined), { cpu: 3 }, 'already on one core')
  t.match(coreToPin(1, [0, 1], 0), { reason: /quota of 1 CPU/ }, 'a whole core: side by side')
  t.match(coreToPin(2, [0, 1], 0), { reason: /quota of 2 CPU/ })
  t.match(coreToPin(0.1, [], 0), { reason: /unknown/ })
})

const pinModule = fileURLToPath(new URL('../src/cpu-pin.js', import.meta.url))

/** A worker thread's code: post its own status (its Cpus_allowed_list among it). */
const THREAD_STATUS = `const get = process.getBuiltinModule
get('node:worker_threads').parentPort.postMessage(get('node:fs').readFileSync('/proc/thread-self/status', 'utf8'))`

/** Runs pinToOneCore(cpus) in a fresh Node process; what it answered and its CPUs after. */
function pinInChild(cpus: number) {
  const script = `
    const { pinToOneCore, allowedCpus } = await import(${JSON.stringify(pinModule)})
    const { Worker } = await import('node:worker_threads')
    const pin = await pinToOneCore(${cpus})
    // A thread started after the pin inherits it.
    const worker = new Worker(${JSON.stringify(THREAD_STATUS)}, { eval: true })
    const status = await new Promise((resolve) => worker.once('message', resolve))
    await worker.terminate()
    console.log(JSON.stringify({ pin, after: allowedCpus(), worker: allowedCpus(status) }))`
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
  })
  return JSON.parse(out) as { pin: object; after: number[]; worker: number[] }
}

const skip =
  process.platform !== 'linux'
    ? 'not Linux: no thread affinity to set'
    : spawnSync('taskset', ['--version']).error
      ? 'taskset (util-linux) is not installed'
      : availableParallelism() < 2
        ? 'one CPU only: nothing to pin'
        : false

t.test('a quota below one core: every thread on one core, new ones too', { skip }, async (t) => {
  const { pin, after, worker } = pinInChild(0.1)
  t.match(pin, { cpu: Number })
  t.same(after, [(pin as { cpu: number }).cpu], 'the process runs on that core only')
  t.same(worker, after, 'a thread started later too')
})

t.test('a whole core or more: left on every core', { skip }, async (t) => {
  const { pin, after } = pinInChild(2)
  t.match(pin, { reason: /quota of 2 CPU/ })
  t.same(after, allowedCpus(), 'the child kept the CPUs it started with')
})
