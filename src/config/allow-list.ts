/**
 * Least privilege per integration (docs/configuration.md#least-privilege):
 * the syntax of `allowedMethods` and `allowedPaths` entries, and whether a
 * list admits a method or a path. Pure: read by the configuration loader
 * (entries are checked at load) and by the request flow.
 */

/** `urn#Method` as the SOAP Body names it (`nms:rtEvent#PushEvent`), or `urn#*` for every method of a schema. */
const METHOD_ENTRY = /^[A-Za-z][A-Za-z0-9_]*:[A-Za-z][A-Za-z0-9_]*#(?:[A-Za-z_][A-Za-z0-9_]*|\*)$/

/** A path in canonical form: `/` then segments of unreserved and sub-delimiter characters, optionally ending in `/*` (the folder and everything under it). */
const PATH_ENTRY = /^(?:\/[A-Za-z0-9._~!$&'()+,=:@-]+)+(?:\/\*)?$/

export function allowedMethodProblem (entry: string): string | undefined {
  if (METHOD_ENTRY.test(entry)) return undefined
  if (/^urn:/i.test(entry)) return `"${entry}" starts with urn: — write the schema and method as the inventory lists them, e.g. ${entry.slice(4)}`
  return `"${entry}" is not a SOAP method: write namespace:schema#Method (nms:rtEvent#PushEvent) or namespace:schema#* for every method of the schema`
}

export function allowedPathProblem (entry: string): string | undefined {
  if (PATH_ENTRY.test(entry) && !entry.split('/').some(segment => segment === '.' || segment === '..')) return undefined
  return `"${entry}" is not a path in canonical form: write it from the first slash, without query, dot segments or escapes (/nl/jsp/mcPing.jsp), or end it with /* for a folder and everything under it`
}

/** Whether `method` (`urn#Method`) is in `list`, exactly or by its schema's `urn#*`. */
export function allowsMethod (list: readonly string[], method: string): boolean {
  if (list.includes(method)) return true
  const hash = method.indexOf('#')
  return hash !== -1 && list.includes(`${method.slice(0, hash + 1)}*`)
}

/** Whether canonical `path` is in `list`, exactly or under an entry ending in `/*`. */
export function allowsPath (list: readonly string[], path: string): boolean {
  return list.some(entry => entry.endsWith('/*') ? path.startsWith(entry.slice(0, -1)) : entry === path)
}

/** Why a call was refused: not in `allowedMethods`, or a path not in `allowedPaths`. */
export type LeastPrivilegeRefusal = 'method' | 'path'
