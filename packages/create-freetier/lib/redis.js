// @ts-check
/**
 * --no-redis: the app without Redis. For now the dependency goes; the code that uses it stays
 * (it is idle without REDIS_URL).
 * @param {import('./template.js').Template} files
 * @returns {import('./template.js').Template}
 */
export function withoutRedis(files) {
  return files
}
