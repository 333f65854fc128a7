/**
 * `${NAME}` and `${NAME:-default}` in string scalars, as in a POSIX shell:
 * the default applies when the variable is unset or empty; `$${` is a
 * literal `${`. Substituted text is not interpolated again, and a default
 * cannot contain `}`.
 */
import type { Path, Problem } from './problems.js'

export type Environment = Readonly<Record<string, string | undefined>>

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s

/** Shown for a key or list item written without a value (`port:`, `- `), which would otherwise be read as 0 or ''. */
const NO_VALUE = 'has no value: give one, or remove the key to use the default'
const EMPTY_ITEM = 'is an empty list item: give it a value or remove it'

/**
 * A copy of `value` (the parsed YAML) with every string interpolated.
 * Problems (unset variables, malformed references, empty values) are
 * appended to `problems`; the offending string is kept as written.
 */
export function interpolate (value: unknown, env: Environment, path: Path, problems: Problem[]): unknown {
  if (typeof value === 'string') return interpolateString(value, env, path, problems)
  if (Array.isArray(value)) return value.map((item: unknown, i) => interpolate(item, env, [...path, i], problems))
  if (value === null) {
    problems.push({ path, message: typeof path.at(-1) === 'number' ? EMPTY_ITEM : NO_VALUE })
    return null
  }
  if (typeof value === 'object') {
    // fromEntries defines own properties, so a `__proto__` key stays a key.
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolate(item, env, [...path, key], problems)]))
  }
  return value
}

function interpolateString (text: string, env: Environment, path: Path, problems: Problem[]): string {
  let out = ''
  let from = 0
  for (let at = text.indexOf('$'); at !== -1; at = text.indexOf('$', from)) {
    if (text.startsWith('$${', at)) {
      out += `${text.slice(from, at)}\${`
      from = at + 3
      continue
    }
    if (!text.startsWith('${', at)) {
      out += text.slice(from, at + 1)
      from = at + 1
      continue
    }
    const end = text.indexOf('}', at)
    // The reference itself is not echoed: it may sit inside an inline secret.
    const match = end === -1 ? null : REFERENCE.exec(text.slice(at + 2, end))
    if (match === null) {
      // eslint-disable-next-line no-template-curly-in-string -- the configuration's ${NAME} syntax, not a template
      problems.push({ path, message: 'malformed ${...} reference: expected ${NAME} or ${NAME:-default} (write $${ for a literal ${)' })
      return text
    }
    const name = match[1] as string
    const fallback = match[2]
    const set = env[name]
    const resolved = set === undefined || (set === '' && fallback !== undefined) ? fallback : set
    if (resolved === undefined) {
      problems.push({ path, message: `environment variable ${name} is not set` })
      return text
    }
    out += text.slice(from, at) + resolved
    from = end + 1
  }
  return out + text.slice(from)
}
