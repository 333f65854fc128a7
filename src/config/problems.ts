/** One configuration problem, located by its path in the document. */

/** Keys and list indexes from the document root, e.g. `['integrations', 2, 'networks', 0]`. */
export type Path = readonly (string | number)[]

export interface Problem {
  readonly path: Path
  readonly message: string
}

const PLAIN_KEY = /^[\w-]+$/

/** Dotted form with indexes: `integrations[2].networks[0]`; keys that are not plain words are quoted (`technicalAccounts["a.b"]`). */
export function formatPath (path: Path): string {
  let out = ''
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`
    else if (!PLAIN_KEY.test(segment)) out += `[${JSON.stringify(segment)}]`
    else out += out === '' ? segment : `.${segment}`
  }
  return out === '' ? '(root)' : out
}

/** Whether `path` is `ancestor` itself or lies below it (both formatted). */
export function isAtOrBelow (path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}.`) || path.startsWith(`${ancestor}[`)
}
