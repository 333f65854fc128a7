/**
 * What every section of buildConfig shares: the problem report, the
 * readers of values that may be wrong (files, secrets, networks, sizes),
 * and lenient accessors that read a value of the wrong type as absent (the
 * schema has already reported it).
 */
import { resolve } from 'node:path'
import { normaliseCidr } from './cidr.js'
import type { Path, Problem } from './problems.js'
import { DEFAULTS } from './schema.js'
import { checkReadableFile } from './secret.js'
import { parseSize } from './size.js'
import type { SecretSource } from './types.js'

export type Data = Readonly<Record<string, unknown>>

export interface BuildContext {
  /** Records a problem at `path`. */
  readonly report: (path: Path, message: string) => void
  /** The absolute path of a file the configuration names (resolved against its directory), reported when unreadable. */
  readonly file: (value: unknown, path: Path) => string | undefined
  /** An inline secret or a `{ file }` one; undefined when absent. */
  readonly secretOf: (value: unknown, path: Path) => SecretSource | undefined
  /** A list of addresses and CIDR blocks, normalised; each invalid entry reported and left out. */
  readonly networksOf: (value: unknown, path: Path) => string[]
  /** A `limits` size in bytes (a number or `64KiB`, `1MiB`...); its default when absent or invalid. */
  readonly sizeOf: (value: unknown, key: keyof typeof DEFAULTS.limits) => number
}

/** A context whose problems are appended to `problems`; relative paths are resolved against `baseDir`. */
export function createContext (baseDir: string, problems: Problem[]): BuildContext {
  const report = (path: Path, message: string): void => { problems.push({ path, message }) }
  const file = (value: unknown, path: Path): string | undefined => {
    const given = optionalText(value)
    if (given === undefined) return undefined
    const absolute = resolve(baseDir, given)
    const problem = checkReadableFile(absolute)
    if (problem !== undefined) report(path, problem)
    return absolute
  }
  const secretOf = (value: unknown, path: Path): SecretSource | undefined => {
    if (typeof value === 'string') return { kind: 'value', value }
    const filePath = file(record(value).file, [...path, 'file'])
    return filePath === undefined ? undefined : { kind: 'file', path: filePath }
  }
  const networksOf = (value: unknown, path: Path): string[] => list(value).flatMap((item, i) => {
    if (typeof item !== 'string') return []
    const result = normaliseCidr(item)
    if (result.ok) return [result.cidr]
    report([...path, i], result.problem)
    return []
  })
  const sizeOf = (value: unknown, key: keyof typeof DEFAULTS.limits): number => {
    if (typeof value === 'number') return value
    if (typeof value !== 'string') return DEFAULTS.limits[key]
    const bytes = parseSize(value)
    if (bytes !== undefined && bytes >= 1) return bytes
    report(['limits', key], 'must be a number of bytes or a size such as 64KiB, 1MiB, 1GiB, 10MB (at least 1 byte)')
    return DEFAULTS.limits[key]
  }
  return { report, file, secretOf, networksOf, sizeOf }
}

export function record (value: unknown): Data {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Data : {}
}

export function list (value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : []
}

export function text (value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** A string where '' means "not set". */
export function optionalText (value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

export function number (value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback
}
