/**
 * Text the proxy does not control, as it stores or prints it. Text a
 * caller controls (a login it presents, a SOAP method name) goes to the
 * inventory, metric labels and log lines as it is when short and
 * printable, else as a fixed-size digest: a caller cannot make the proxy
 * hold or print megabytes, or control characters. Text from an upstream
 * (docs/security.md) is reduced the same way, or to an error code.
 */
import { createHash } from 'node:crypto'

/** Longest caller-supplied text kept as it is. */
export const MAX_STORED_TEXT = 128
const PRINTABLE = /^[\x21-\x7e]*$/

export function boundedText (value: string | undefined): string | undefined {
  if (value === undefined || (value.length <= MAX_STORED_TEXT && PRINTABLE.test(value))) return value
  return digest(value)
}

/** Longest upstream message (an undici error's, a Campaign fault string) printed as it is. */
export const MAX_MESSAGE_TEXT = 256
const PRINTABLE_WITH_SPACES = /^[\x20-\x7e]*$/

/**
 * A message that may hold text from the other side of a connection, for a
 * log line or the `check` report: as it is when at most MAX_MESSAGE_TEXT
 * printable characters, else a digest. Campaign only ever receives the
 * proxy's IMS tokens (far longer than that), so no echo of what the proxy
 * sent it survives whole.
 */
export function boundedMessage (value: string): string {
  return value.length <= MAX_MESSAGE_TEXT && PRINTABLE_WITH_SPACES.test(value) ? value : `(${value.length} characters, ${digest(value)})`
}

/** An error code as libraries write them (ECONNREFUSED, UND_ERR_SOCKET, HPE_INVALID_CONSTANT, invalid_client). */
export const ERROR_CODE = /^[A-Za-z0-9_.-]{1,64}$/
/** Causes followed when looking for a code. */
const MAX_CAUSES = 4

/** The first `code` of `err` or of its causes that is shaped like an error code; undefined when there is none. */
export function errorCode (err: unknown): string | undefined {
  let current = err
  for (let depth = 0; depth <= MAX_CAUSES && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && ERROR_CODE.test(code)) return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

/**
 * What a log line says of an error met on an upstream connection: its
 * type, code and bounded message, never the error object itself (undici's
 * HTTPParserError carries the bytes it could not parse in `data`, which a
 * serialised error would print).
 */
export function upstreamErrorFields (err: unknown): { readonly type: string, readonly code: string | undefined, readonly message: string } {
  const error = err instanceof Error ? err : new Error(String(err))
  return { type: ERROR_CODE.test(error.name) ? error.name : 'Error', code: errorCode(error), message: boundedMessage(error.message) }
}

function digest (value: string): string {
  return `sha256:${createHash('sha256').update(value).digest('hex').slice(0, 32)}`
}
