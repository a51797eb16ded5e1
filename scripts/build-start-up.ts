/**
 * esbuild plugins that cut what the bundle costs at start, where the cost is in how Node loads a
 * built-in or how a dependency builds itself, not in what the app does. Each was measured in a
 * process's CPU to its first 200 (docs/performance.md); each fails the build when what it relies
 * on is gone, so a dependency update cannot turn one into a silent no-op or a broken bundle.
 */
import { builtinModules, createRequire } from 'node:module'
import type { Plugin } from 'esbuild'

export const BUILTIN = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]))

/**
 * Node's built-in modules without their ES module facade. `import { x } from 'node:fs'` makes
 * Node build the facade, which reads every export, lazy ones too (fs's streams, util's parseArgs,
 * net's BlockList...): ~10 ms of CPU at start, 0.1 s at 0.1 CPU. Here each import becomes the
 * CommonJS module from process.getBuiltinModule, one export per name, each dropped from the
 * bundle unless something uses it.
 */
export const builtinsWithoutFacade: Plugin = {
  name: 'builtins-without-facade',
  setup(build) {
    // Only ES imports: require() of a built-in is already the CommonJS module.
    build.onResolve({ filter: /^[a-z0-9_:/]+$/ }, ({ path, kind }) =>
      kind === 'import-statement' && BUILTIN.has(path)
        ? { path: path.replace(/^node:/, ''), namespace: 'builtin' }
        : undefined,
    )
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, ({ path }) => {
      // Lazy exports (accessors) are left out: a namespace import would read them all at start.
      // Importing one by name fails the build; `m.name` on the default export still works.
      const exports = Object.getOwnPropertyDescriptors(createRequire(import.meta.url)(path))
      const names = Object.entries(exports)
        .filter(([name, d]) => 'value' in d && /^[A-Za-z_][\w$]*$/.test(name))
        .map(([name]) => name)
      return {
        contents: [
          `const $builtin = process.getBuiltinModule(${JSON.stringify(`node:${path}`)})`,
          'const $get = (name) => $builtin[name]',
          'export default $builtin',
          ...names.map(
            (name) => `export const ${name} = /* @__PURE__ */ $get(${JSON.stringify(name)})`,
          ),
        ].join('\n'),
        loader: 'js',
      }
    })
  },
}

/**
 * Built-ins the server never uses but Fastify requires at load: the app speaks HTTP/1.1 behind
 * the platform's TLS proxy, and `https` and `http2` cost ~3 ms of CPU each to load. A require()
 * of one gets the module on first property access instead. (An ES import of one still loads it:
 * builtinsWithoutFacade handles those.)
 */
const UNUSED_AT_START = /^(node:)?(https|http2)$/

export const unusedBuiltinsOnFirstUse: Plugin = {
  name: 'unused-builtins-on-first-use',
  setup(build) {
    build.onResolve({ filter: UNUSED_AT_START }, ({ path, kind }) =>
      kind === 'require-call'
        ? { path: path.replace(/^node:/, ''), namespace: 'builtin-on-first-use' }
        : undefined,
    )
    build.onLoad({ filter: /.*/, namespace: 'builtin-on-first-use' }, ({ path }) => ({
      contents: [
        'let loaded',
        `const load = () => (loaded ??= process.getBuiltinModule(${JSON.stringify(`node:${path}`)}))`,
        'module.exports = new Proxy({}, {',
        '  get: (_, name) => load()[name],',
        '  has: (_, name) => name in load(),',
        '})',
      ].join('\n'),
      loader: 'js',
    }))
  },
}
