/**
 * Text a caller controls (a login it presents, a SOAP method name) as the
 * proxy stores it in the inventory, metric labels and log lines: as it is
 * when short and printable, else a fixed-size digest of it. A caller
 * cannot make the proxy hold or print megabytes, or control characters.
 */
import { createHash } from 'node:crypto'

/** Longest caller-supplied text kept as it is. */
export const MAX_STORED_TEXT = 128
const PRINTABLE = /^[\x21-\x7e]*$/

export function boundedText (value: string | undefined): string | undefined {
  if (value === undefined || (value.length <= MAX_STORED_TEXT && PRINTABLE.test(value))) return value
  return `sha256:${createHash('sha256').update(value).digest('hex').slice(0, 32)}`
}
