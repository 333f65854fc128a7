/**
 * What the proxy reads in Campaign's answers (docs/architecture.md#token-rejection):
 * a rejected bearer (HTTP 401, or a SOAP fault with `XSV-350008`, or
 * `XSV-350114` ... `401`), the session token of a passthrough Logon, and
 * the endpoint a WSDL names. Only answers that end within a bounded size
 * are read; anything longer is streamed on untouched.
 */
import type { IncomingHttpHeaders } from 'node:http'
import { SOAP_ROUTER_PATH, WSDL_PATH } from '../auth/identity.js'

/** Answers whose body ends within this many bytes are inspected (and sent as one buffer). */
export const RESPONSE_HEAD_BYTES = 64 * 1024
/** A WSDL is rewritten when it ends within this many bytes. */
export const WSDL_BYTES = 16 * RESPONSE_HEAD_BYTES

export interface Inspection {
  readonly method: string
  readonly path: string
  /** The request carries the proxy's bearer (a rejection can be recognised). */
  readonly hasBearer: boolean
  /** A passthrough Logon whose session token to remember. */
  readonly rememberLogon: boolean
}

/** How many bytes of an answer to collect whole, given its status (0: stream it untouched). */
export function inspectionLimit (request: Inspection, status: number, headers: IncomingHttpHeaders): number {
  if (status === 200 && request.method === 'GET' && request.path === WSDL_PATH) return WSDL_BYTES
  if (!request.hasBearer && !request.rememberLogon) return 0
  const isXml = String(headers['content-type'] ?? '').includes('xml')
  return status === 401 || (isXml && (status === 200 || status === 500)) ? RESPONSE_HEAD_BYTES : 0
}

/** Whether a complete answer says Campaign does not accept the bearer token. */
export function isTokenRejection (status: number, body: Buffer): boolean {
  return status === 401 || isTokenRejectionFault(body)
}

/** Whether a complete response body is a SOAP fault saying the bearer token is not accepted. */
export function isTokenRejectionFault (body: Buffer): boolean {
  // Searched in the bytes: most answers are not faults, and decoding each one would cost more than the search.
  if (body.indexOf('Fault') === -1) return false
  if (body.indexOf('XSV-350008') !== -1) return true
  const at = body.indexOf('XSV-350114')
  return at !== -1 && /\b401\b/.test(body.toString('latin1', at))
}

/** The session token in a Campaign `LogonResponse` (`pstrSessionToken`), if any. */
export function logonResponseSessionToken (body: Buffer): string | undefined {
  const match = /<pstrSessionToken\b[^>]*>([^<]{1,1024})<\/pstrSessionToken>/.exec(body.toString('latin1'))
  return match?.[1]?.trim() || undefined
}

/** A Host header that can be written into a URL as is. */
const HOST = /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/

/** The origin the client used to reach the proxy (scheme and Host; X-Forwarded-Proto/-Host from trusted proxies), undefined when the Host is unusable. */
export function clientOrigin (headers: IncomingHttpHeaders, isPeerTrusted: boolean, isTls: boolean): string | undefined {
  const forwarded = (name: string): string | undefined => {
    const value = isPeerTrusted ? headers[name] : undefined
    return typeof value === 'string' ? value.split(',')[0]?.trim() : undefined
  }
  const host = forwarded('x-forwarded-host') ?? headers.host
  if (host === undefined || !HOST.test(host)) return undefined
  const proto = forwarded('x-forwarded-proto') ?? (isTls ? 'https' : 'http')
  return `${proto === 'https' ? 'https' : 'http'}://${host}`
}

/**
 * A WSDL names Campaign's SOAP router as its endpoint (Campaign writes the
 * Host it was asked for: its own, `campaignHost`, under http or https).
 * Served through the proxy it must name the proxy, or a WSDL-driven client
 * would call Campaign directly: `proxyOrigin`'s router, or, when the proxy
 * does not know how it was reached, the relative `/nl/jsp/soaprouter.jsp`
 * (never Campaign's origin; a client that does not resolve it against the
 * WSDL's own URL fails rather than bypass the proxy).
 */
export function wsdlThroughProxy (wsdl: Buffer, campaignHost: string, proxyOrigin: string | undefined): Buffer {
  let text = wsdl.toString('latin1')
  let isChanged = false
  for (const scheme of ['https', 'http']) {
    const endpoint = `${scheme}://${campaignHost}${SOAP_ROUTER_PATH}`
    if (!text.includes(endpoint)) continue
    text = text.split(endpoint).join(`${proxyOrigin ?? ''}${SOAP_ROUTER_PATH}`)
    isChanged = true
  }
  return isChanged ? Buffer.from(text, 'latin1') : wsdl
}
