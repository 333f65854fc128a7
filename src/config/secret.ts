/**
 * Secrets (`technicalAccounts.*.clientSecret`, `sessions.secret`) are
 * a value or a file. Files are read when the secret is needed, never kept,
 * so a rotated file takes effect without a restart. Neither errors nor
 * descriptions ever carry the secret itself.
 */
import { closeSync, openSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { SecretSource } from './types.js'

/** The secret: the inline value, or the file's content read now, trailing newlines removed. */
export async function readSecret (source: SecretSource): Promise<string> {
  if (source.kind === 'value') return source.value
  let content: string
  try {
    content = await readFile(source.path, 'utf8')
  } catch (err) {
    throw new Error(`cannot read secret file ${source.path} (${errorCode(err)})`, { cause: err })
  }
  const secret = content.replace(/[\r\n]+$/, '')
  if (secret === '') throw new Error(`secret file ${source.path} is empty`)
  return secret
}

/** For logs: `file /run/secrets/x` or `inline value`. */
export function describeSecret (source: SecretSource): string {
  return source.kind === 'file' ? `file ${source.path}` : 'inline value'
}

/**
 * Why `path` cannot serve as a secret or CA file (missing, not a regular
 * file, unreadable, empty), or undefined when it can. Opens the file
 * without reading it.
 */
export function checkReadableFile (path: string): string | undefined {
  try {
    const stat = statSync(path)
    if (!stat.isFile()) return `${path} is not a regular file`
    if (stat.size === 0) return `${path} is empty`
    closeSync(openSync(path, 'r'))
    return undefined
  } catch (err) {
    return `cannot read ${path} (${errorCode(err)})`
  }
}

function errorCode (err: unknown): string {
  return String((err as NodeJS.ErrnoException).code)
}
