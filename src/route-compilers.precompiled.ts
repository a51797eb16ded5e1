import type { Precompiled } from './route-compilers.js'

/**
 * Empty here: tests and `npm run dev` compile route schemas at start. The production build
 * (scripts/build.ts) replaces this module in the bundle with the code it generated.
 */
export const precompiled: Precompiled = { validators: {}, serializers: {} }
