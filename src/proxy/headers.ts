/**
 * Upstream request headers, built deliberately (SPEC section 3): nothing
 * that identifies the legacy session reaches Campaign, hop-by-hop headers
 * never cross the proxy, and the caller's address travels in
 * `X-Forwarded-For`.
 */
import type { IncomingHttpHeaders } from 'node:http'

/**
 * Hop-by-hop headers (RFC 9110 section 7.6.1) plus `expect` (the proxy
 * answers `100-continue` itself; undici refuses to send it) and every
 * `proxy-*` header.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect'])
/** Where a legacy client carries credentials in HTTP headers (reference section 2). */
const CREDENTIAL_HEADERS = ['authorization', 'x-session-token', 'x-security-token'] as const
export const SESSION_COOKIE = '__sessiontoken'

/** The Cookie header without the named cookie; undefined when nothing else is left. Other cookies keep their bytes. */
export function removeCookie (cookieHeader: string, name: string): string | undefined {
  const kept = cookieHeader.split(';').filter(part => {
    const eq = part.indexOf('=')
    return (eq === -1 ? part : part.slice(0, eq)).trim() !== name
  })
  const joined = kept.map(p => p.trim()).filter(p => p !== '').join('; ')
  return joined === '' ? undefined : joined
}

export interface UpstreamHeaderOptions {
  /** The socket peer's address, appended to `X-Forwarded-For` (RFC 7239 section 5.2 practice). */
  readonly peer: string
  /** Whether the peer is a trusted proxy whose `X-Forwarded-For` is kept and extended; otherwise it is replaced. */
  readonly isPeerTrusted: boolean
  /** `Bearer ...` to inject; undefined forwards the client's headers untouched (passthrough). */
  readonly authorization: string | undefined
  /** Exact length of a rewritten body; undefined keeps what the client sent. */
  readonly contentLength: number | undefined
  /** The client's Content-Type, restored verbatim (reply-from reduces it to the bare media type). */
  readonly contentType: string | undefined
}

/** Builds the upstream headers from reply-from's copy of the client headers. */
export function upstreamHeaders (headers: IncomingHttpHeaders, options: UpstreamHeaderOptions): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || name.startsWith('proxy-')) continue
    out[name] = value
  }
  const previous = options.isPeerTrusted ? headerText(headers['x-forwarded-for']) : undefined
  out['x-forwarded-for'] = previous === undefined || previous === '' ? options.peer : `${previous}, ${options.peer}`
  if (options.contentType !== undefined) out['content-type'] = options.contentType
  if (options.contentLength !== undefined) out['content-length'] = String(options.contentLength)
  if (options.authorization !== undefined) {
    for (const name of CREDENTIAL_HEADERS) delete out[name]
    const cookie = headerText(out.cookie)
    if (cookie !== undefined) {
      const kept = removeCookie(cookie, SESSION_COOKIE)
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

/**
 * Campaign's response headers for the client: hop-by-hop ones (and those
 * its `Connection` header names) describe Campaign's connection to the
 * proxy, not the proxy's to the client, and are dropped; Node frames the
 * client response itself.
 */
export function downstreamHeaders (headers: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const named = typeof headers.connection === 'string' ? headers.connection.split(',').map(h => h.trim().toLowerCase()) : []
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (HOP_BY_HOP.has(name) || name.startsWith('proxy-') || named.includes(name)) continue
    out[name] = value
  }
  return out
}
