/**
 * A route's own hooks of one kind with `hook` in front: how a plugin gives routes a hook from
 * its `onRoute` hook, deciding once per route (from its options) instead of on every request.
 */
export function hookFirst<Hook>(own: Hook | Hook[] | undefined, hook: Hook): Hook[] {
  if (own === undefined) return [hook]
  return [hook, ...(Array.isArray(own) ? own : [own])]
}
