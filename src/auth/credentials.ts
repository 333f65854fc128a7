/**
 * Where a legacy client carries its session (docs/legacy-sessions.md): the
 * first SOAP parameter, `X-Session-Token`, the `__sessiontoken` cookie (as
 * an HTTP header or as the SOAP Header `<Cookie>`), and the security token
 * in `X-Security-Token` (header or SOAP Header element).
 *
 * Besides the one value the resolvers read, every value presented in any
 * spelling Campaign's servlet container might accept is collected: repeated
 * headers (Node joins them with ", "), cookies separated by ";" or by ","
 * (RFC 2109 and RFC 2965 Cookie headers), cookie names in any case, values
 * in double quotes, and repeated SOAP Header elements. A proxy token in any
 * of them is the proxy's to verify, never Campaign's to see.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { SoapLocation } from '../soap/locate.js'

/** The cookie Campaign's web clients carry the session token in. */
export const SESSION_COOKIE = '__sessiontoken'

export interface PresentedCredentials {
  /** The first non-empty session token found, '' when none. */
  readonly sessionToken: string
  /** The security token, '' when none. */
  readonly securityToken: string
  /** Every distinct non-empty session token, in every location and spelling. */
  readonly sessionTokens: readonly string[]
  /** Every distinct non-empty security token, in every location and spelling. */
  readonly securityTokens: readonly string[]
}

/** The value of the cookie `name`, split at ";" only and matched exactly: the value the resolvers read. */
export function cookieValue (cookieHeader: string | undefined, name: string): string {
  if (cookieHeader === undefined) return ''
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return ''
}

/** `value` trimmed, without one pair of surrounding double quotes (RFC 2109 quoted-string, RFC 9110 section 5.6.4). */
export function unquoted (value: string): string {
  const trimmed = value.trim()
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1).trim() : trimmed
}

/** The Cookie header's text: repeated headers are one string in Node, an array is joined the way Node joins them. */
export function cookieText (value: string | readonly string[] | undefined): string {
  return typeof value === 'string' ? value : (value ?? []).join('; ')
}

/**
 * Whether a Cookie header entry (the text between two separators) is the
 * cookie `name` in any case, its name quoted or not.
 */
export function isCookieNamed (entry: string, name: string): boolean {
  const eq = entry.indexOf('=')
  return unquoted(eq === -1 ? entry : entry.slice(0, eq)).toLowerCase() === name
}

/**
 * Every value of the cookie `name` (lower case), however the header spells
 * it: entries separated by ";" or ",", the name in any case, the value
 * quoted or not. Commas inside a quoted value also separate: that finds more
 * entries, never fewer.
 */
export function cookieValues (cookieHeader: string | readonly string[] | undefined, name: string): string[] {
  const values: string[] = []
  if (cookieHeader === undefined) return values
  for (const entry of cookieText(cookieHeader).split(/[;,]/)) {
    const eq = entry.indexOf('=')
    if (eq !== -1 && isCookieNamed(entry, name)) values.push(unquoted(entry.slice(eq + 1)))
  }
  return values
}

/** Every value of a credential header: repeated headers (joined with "," by Node, or an array), each quoted or not. */
export function headerValues (value: string | readonly string[] | undefined): string[] {
  const values: string[] = []
  for (const line of typeof value === 'string' ? [value] : value ?? []) {
    for (const item of line.split(',')) values.push(unquoted(item))
  }
  return values
}

function headerValue (headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name]
  return typeof value === 'string' ? value.trim() : ''
}

function distinct (values: readonly string[]): string[] {
  const out: string[] = []
  // A handful of values: a list is cheaper than a Set.
  for (const value of values) {
    if (value !== '' && !out.includes(value)) out.push(value)
  }
  return out
}

/** The credentials a request presents, SOAP body first (when located), then headers. */
export function presentedCredentials (headers: IncomingHttpHeaders, location: SoapLocation | undefined): PresentedCredentials {
  const bodyToken = location?.params[0]?.text.trim() ?? ''
  const soapHeaders = location?.headerCredentials ?? []
  const { cookie } = headers
  const sessionHeader = headers['x-session-token']
  const securityHeader = headers['x-security-token']
  // The common call: the token in the body (or none), no credential header, no SOAP Header credential.
  if (soapHeaders.length === 0 && cookie === undefined && sessionHeader === undefined && securityHeader === undefined) {
    const token = unquoted(bodyToken)
    return { sessionToken: bodyToken, securityToken: '', sessionTokens: token === '' ? [] : [token], securityTokens: [] }
  }
  const soapCookie = cookieValue(location?.headerCookie?.text, SESSION_COOKIE)
  // The scanner keeps only SOAP Header children named Cookie or X-Security-Token (any prefix).
  const soapNamed = (local: string): string[] => soapHeaders.filter(e => e.qname.endsWith(local)).map(e => e.text)
  return {
    sessionToken: bodyToken || headerValue(headers, 'x-session-token') || cookieValue(cookie, SESSION_COOKIE) || soapCookie,
    securityToken: headerValue(headers, 'x-security-token') || (location?.headerSecurityToken?.text.trim() ?? ''),
    sessionTokens: distinct([
      unquoted(bodyToken),
      ...headerValues(sessionHeader),
      ...cookieValues(cookie, SESSION_COOKIE),
      ...soapNamed('Cookie').flatMap(text => cookieValues(text, SESSION_COOKIE)),
    ]),
    securityTokens: distinct([...headerValues(securityHeader), ...soapNamed('X-Security-Token').map(unquoted)]),
  }
}

/**
 * The session tokens a query string carries as `__sessiontoken` (any case,
 * every occurrence, decoded): Campaign's JSP pages read one there. The
 * proxy neither verifies nor removes them, so the request flow refuses a
 * request it would forward with one it cannot vouch for
 * (docs/legacy-sessions.md#the-session-token-in-a-query-string).
 */
export function querySessionTokens (query: string): string[] {
  if (query === '' || !query.toLowerCase().includes(SESSION_COOKIE)) return []
  const tokens: string[] = []
  for (const [name, value] of new URLSearchParams(query)) {
    if (name.toLowerCase() === SESSION_COOKIE && value !== '') tokens.push(value)
  }
  return tokens
}
