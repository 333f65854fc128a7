/**
 * Upstream request headers, built deliberately (docs/architecture.md#rewriting-rules): nothing
 * that identifies the legacy session reaches Campaign, hop-by-hop headers
 * never cross the proxy, and the caller's address travels in
 * `X-Forwarded-For`.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { cookieText, isCookieNamed, SESSION_COOKIE } from '../auth/credentials.js'

/**
 * Hop-by-hop headers (RFC 9110 section 7.6.1) plus `expect` (the proxy
 * answers `100-continue` itself; undici refuses to send it) and every
 * `proxy-*` header.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect'])
/** Where a legacy client carries credentials in HTTP headers (docs/legacy-sessions.md). */
const CREDENTIAL_HEADERS = ['authorization', 'x-session-token', 'x-security-token'] as const

/**
 * The Cookie header without the cookie `name` (lower case) in any spelling
 * (`cookieValues`: ";" or "," separated, any case, quoted or not);
 * undefined when nothing else is left. The other entries keep their bytes
 * and the separators before them.
 */
export function removeCookie (cookieHeader: string, name: string): string | undefined {
  const parts = cookieHeader.split(/([;,])/)
  let kept = ''
  for (let i = 0; i < parts.length; i += 2) {
    const entry = parts[i] as string
    if (!isCookieNamed(entry, name)) kept += `${i === 0 ? '' : parts[i - 1] as string}${entry}`
  }
  const joined = kept.replace(/^[\s;,]+/, '').trimEnd()
  return joined === '' ? undefined : joined
}

export interface UpstreamHeaderOptions {
  /** Campaign's host (and port): the Host header it gets, whatever the client sent. */
  readonly host: string
  /** The socket peer's address, appended to `X-Forwarded-For` (RFC 7239 section 5.2 practice). */
  readonly peer: string
  /** Whether the peer is a trusted proxy whose `X-Forwarded-For` is kept and extended; otherwise it is replaced. */
  readonly isPeerTrusted: boolean
  /** `Bearer ...` to inject; undefined forwards the client's headers untouched (passthrough). */
  readonly authorization: string | undefined
  /** Exact length of a rewritten body; undefined keeps what the client sent. */
  readonly contentLength: number | undefined
}

/** Builds the upstream headers from the client's. */
export function upstreamHeaders (headers: IncomingHttpHeaders, options: UpstreamHeaderOptions): IncomingHttpHeaders {
  const named = connectionNamed(headers.connection)
  const out: IncomingHttpHeaders = { host: options.host }
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined || name === 'host' || HOP_BY_HOP.has(name) || name.startsWith('proxy-') || (named !== undefined && named.includes(name))) continue
    out[name] = value
  }
  const previous = options.isPeerTrusted ? headerText(headers['x-forwarded-for']) : undefined
  out['x-forwarded-for'] = previous === undefined || previous === '' ? options.peer : `${previous}, ${options.peer}`
  if (options.contentLength !== undefined) out['content-length'] = String(options.contentLength)
  if (options.authorization !== undefined) {
    for (const name of CREDENTIAL_HEADERS) delete out[name]
    if (out.cookie !== undefined) {
      const kept = removeCookie(cookieText(out.cookie), SESSION_COOKIE)
      if (kept === undefined) delete out.cookie
      else out.cookie = kept
    }
    out.authorization = options.authorization
  }
  return out
}

/** Node joins repeated request headers into one string (only `set-cookie`, a response header, is an array). */
function headerText (value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** Every answer of the proxy listener carries the request's id (given by a client as X-Request-Id, else generated). */
export const REQUEST_ID_HEADER = 'x-request-id'
/** A client-supplied X-Request-Id is echoed only when it looks like an id (bounded, no control characters). */
const REQUEST_ID = /^[\w.:-]{1,128}$/

/** The request's id: the client's X-Request-Id when it looks like one, else a new UUID. */
export function requestIdOf (request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER]
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
}

/**
 * Campaign's response headers for the client: hop-by-hop ones (and those
 * its `Connection` header names) describe Campaign's connection to the
 * proxy, not the proxy's to the client, and are dropped; Node frames the
 * client response itself.
 */
export function downstreamHeaders (headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = connectionNamed(headers.connection)
  const out: IncomingHttpHeaders = {}
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || name.startsWith('proxy-') || (named !== undefined && named.includes(name))) continue
    out[name] = headers[name]
  }
  return out
}

/** The header names a `Connection` header lists (hop-by-hop too, RFC 9110 section 7.6.1). */
function connectionNamed (connection: string | string[] | undefined): string[] | undefined {
  if (typeof connection !== 'string') return undefined
  const names = connection.toLowerCase().split(',').map(h => h.trim())
  return names.length === 1 && (names[0] === 'keep-alive' || names[0] === 'close') ? undefined : names
}
