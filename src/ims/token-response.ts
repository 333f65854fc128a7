/**
 * Pure functions that read an IMS token endpoint answer (reference
 * CAMPAIGN-AND-IMS section 3): success body, error body, `Retry-After`, and
 * the JWT payload's own expiry. Nothing here logs or holds a secret, and
 * no text of the answer goes into a message: of an error body only its
 * `error` code is kept, and only when IMS_ERROR_CODES lists it
 * (`error_description` is never read).
 */
import { IMS_CONFIGURATION_ERRORS, IMS_ERROR_CODES } from './errors.js'

/** Metrics label of one token request. */
export type TokenRequestOutcome = 'ok' | 'network' | 'http_5xx' | 'http_429' | 'http_unexpected' | 'malformed' | 'config'

/** A `Retry-After` above this is treated as this: a bogus header must not stop token requests for days. */
export const MAX_RETRY_AFTER_SECONDS = 3600

export type InterpretedResponse =
  | { readonly ok: true, readonly accessToken: string, readonly expiresAt: number }
  | {
    readonly ok: false
    readonly outcome: Exclude<TokenRequestOutcome, 'ok' | 'network'>
    readonly message: string
    /** The server's minimum wait before the next request, in ms. */
    readonly retryAfterMs: number | undefined
    /** IMS `error`, for configuration errors. */
    readonly imsError?: string
  }

export interface ResponseFacts {
  readonly status: number
  readonly retryAfter: string | null
  readonly body: string
  /** When the answer was received (ms epoch). */
  readonly receivedAt: number
}

/**
 * Classifies an answer of the token endpoint. Expiry is the receive time plus
 * `expires_in` seconds, or the JWT's `created_at + expires_in` (ms) when that
 * is earlier: the token cannot outlive what its issuer wrote in it.
 */
export function interpretTokenResponse ({ status, retryAfter, body, receivedAt }: ResponseFacts): InterpretedResponse {
  if (status >= 200 && status < 300) return interpretSuccess(body, receivedAt)
  const imsError = imsErrorOf(body)
  if (status >= 400 && status < 500 && imsError !== undefined && IMS_CONFIGURATION_ERRORS.has(imsError)) {
    return { ok: false, outcome: 'config', message: `IMS answered HTTP ${status} ${imsError}`, retryAfterMs: undefined, imsError }
  }
  const retryAfterMs = parseRetryAfter(retryAfter, receivedAt)
  const named = imsError === undefined ? '' : ` ${imsError}`
  if (status === 429) return { ok: false, outcome: 'http_429', message: `IMS answered HTTP 429${named}`, retryAfterMs }
  if (status >= 500) return { ok: false, outcome: 'http_5xx', message: `IMS answered HTTP ${status}${named}`, retryAfterMs }
  return { ok: false, outcome: 'http_unexpected', message: `IMS answered HTTP ${status}${named}`, retryAfterMs }
}

function interpretSuccess (body: string, receivedAt: number): InterpretedResponse {
  const parsed = parseJsonObject(body)
  if (parsed === undefined) return malformed('the token response is not a JSON object')
  const accessToken = parsed['access_token']
  if (typeof accessToken !== 'string' || accessToken === '') return malformed('the token response has no access_token')
  const expiresIn = parsed['expires_in']
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    return malformed('the token response has no positive expires_in')
  }
  const expiresAt = Math.min(receivedAt + Math.round(expiresIn * 1000), jwtExpiresAt(accessToken) ?? Number.POSITIVE_INFINITY)
  return { ok: true, accessToken, expiresAt }
}

function malformed (message: string): InterpretedResponse {
  return { ok: false, outcome: 'malformed', message, retryAfterMs: undefined }
}

/** `created_at + expires_in` from the JWT payload (both strings of milliseconds at Adobe), if present and sane. */
export function jwtExpiresAt (token: string): number | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  const payload = parseJsonObject(Buffer.from(parts[1] as string, 'base64url').toString('utf8'))
  if (payload === undefined) return undefined
  const createdAt = millisecondsOf(payload['created_at'])
  const lifetime = millisecondsOf(payload['expires_in'])
  if (createdAt === undefined || lifetime === undefined) return undefined
  return createdAt + lifetime
}

function millisecondsOf (value: unknown): number | undefined {
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value)
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value
  return undefined
}

/**
 * `Retry-After` (RFC 9110 section 10.2.3): delay-seconds or an HTTP-date, as
 * milliseconds from `now`, capped at MAX_RETRY_AFTER_SECONDS; undefined when
 * absent or unreadable.
 */
export function parseRetryAfter (value: string | null, now: number): number | undefined {
  if (value === null) return undefined
  const text = value.trim()
  const cap = MAX_RETRY_AFTER_SECONDS * 1000
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, cap)
  const date = Date.parse(text)
  if (Number.isNaN(date)) return undefined
  return Math.min(Math.max(0, date - now), cap)
}

/** The body's `error` code when IMS_ERROR_CODES lists it. */
function imsErrorOf (body: string): string | undefined {
  const error = parseJsonObject(body)?.['error']
  return typeof error === 'string' && IMS_ERROR_CODES.has(error) ? error : undefined
}

function parseJsonObject (text: string): Record<string, unknown> | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined
}
