/**
 * Every error the request path can meet, mapped in one function to the
 * answer the client gets (docs/architecture.md#faults), as reply-from's
 * lib/errors.js does for its own: the fault (status and Campaign-shaped
 * message), its detail, `Retry-After`, and how loudly to log it.
 * Anything unexpected is a generic 500 fault carrying the request id: no
 * internal text reaches the client.
 */
import { ImsConfigurationError, TokenUnavailableError } from '../ims/errors.js'
import { upstreamErrorFields } from '../observability/bounded.js'
import { ProxyFault, type ProxyFaultName } from '../soap/faults.js'

/** Raised inside the upstream body stream when a body without Content-Length grows past the limit. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError'
}

/** Campaign could not be reached, or did not answer in time (`isTimeout`). */
export class UpstreamError extends Error {
  override name = 'UpstreamError'
  readonly isTimeout: boolean

  constructor (cause: unknown) {
    super('the upstream request failed', { cause })
    this.isTimeout = TIMEOUT_CODES.has(String((cause as { code?: unknown } | null)?.code))
  }
}

interface HealthLog {
  warn (obj: object, msg: string): void
  info (obj: object, msg: string): void
}

/**
 * Whether Campaign answers, logged once per change: the first failure of
 * an outage with its cause (warn), the first answer after it (info). The
 * cause is logged as its type, code and bounded message, never as the
 * error object (an HTTPParserError holds the bytes Campaign sent).
 */
export class UpstreamHealth {
  #isDown = false
  readonly #log: HealthLog

  constructor (log: HealthLog) {
    this.#log = log
  }

  failed (err: UpstreamError): void {
    if (this.#isDown) return
    this.#isDown = true
    this.#log.warn({ error: upstreamErrorFields(err.cause), timeout: err.isTimeout }, 'Campaign unreachable: requests get 502/504 until it answers again')
  }

  answered (): void {
    if (!this.#isDown) return
    this.#isDown = false
    this.#log.info({}, 'Campaign answers again')
  }
}

/** undici's codes for a connect, headers or body timeout. */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

export interface ErrorAnswer {
  readonly fault: ProxyFaultName
  /** For the client (never internal text). */
  readonly detail: string | undefined
  readonly retryAfterSeconds: number | undefined
  /**
   * How loudly to log this one request. An outage (no IMS token, Campaign
   * unreachable) is one event, logged when the state changes (by the
   * token provider, by `UpstreamHealth`); its calls are `debug`, and their
   * access lines carry the fault code.
   */
  readonly level: 'debug' | 'info' | 'error'
  /** The log message. */
  readonly message: string
}

/** The answer to `err`, whatever it is. */
export function answerFor (err: unknown): ErrorAnswer {
  if (err instanceof ProxyFault) return { fault: err.fault, detail: err.detail, retryAfterSeconds: err.retryAfterSeconds, level: 'info', message: 'request refused by the proxy' }
  if (err instanceof TokenUnavailableError || err instanceof ImsConfigurationError) {
    return { fault: 'imsUnavailable', detail: undefined, retryAfterSeconds: Math.max(1, Math.ceil(err.retryAfterSeconds)), level: 'debug', message: 'no IMS token for the request' }
  }
  if (err instanceof BodyTooLargeError) return { fault: 'tooLarge', detail: undefined, retryAfterSeconds: undefined, level: 'info', message: 'request body over limits.maxBodyBytes' }
  if (err instanceof UpstreamError) {
    return { fault: err.isTimeout ? 'upstreamTimeout' : 'upstreamUnavailable', detail: undefined, retryAfterSeconds: undefined, level: 'debug', message: 'upstream request failed' }
  }
  // Fastify's own refusals of a malformed request (a bad percent-encoding, an invalid Content-Type): a client error, not a 500.
  const fastify = (err ?? {}) as { code?: unknown, statusCode?: unknown }
  if (fastify.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { fault: 'invalidMediaType', detail: undefined, retryAfterSeconds: undefined, level: 'info', message: 'request refused by the proxy' }
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) return { fault: 'badRequest', detail: undefined, retryAfterSeconds: undefined, level: 'info', message: 'request refused by the proxy' }
  return { fault: 'internal', detail: undefined, retryAfterSeconds: undefined, level: 'error', message: 'unexpected error on the request path' }
}
