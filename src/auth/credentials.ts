/**
 * Where a legacy client carries its session (docs/legacy-sessions.md): the
 * first SOAP parameter, `X-Session-Token`, the `__sessiontoken` cookie (as
 * an HTTP header or as the SOAP Header `<Cookie>`), and the security token
 * in `X-Security-Token` (header or SOAP Header element).
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
}

export function cookieValue (cookieHeader: string | undefined, name: string): string {
  for (const part of (cookieHeader ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return ''
}

function headerValue (headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name]
  return typeof value === 'string' ? value.trim() : ''
}

/** The credentials a request presents, SOAP body first (when located), then headers. */
export function presentedCredentials (headers: IncomingHttpHeaders, location: SoapLocation | undefined): PresentedCredentials {
  const bodyToken = location?.params[0]?.text.trim() ?? ''
  const soapCookie = cookieValue(location?.headerCookie?.text, SESSION_COOKIE)
  return {
    sessionToken: bodyToken || headerValue(headers, 'x-session-token') || cookieValue(headers.cookie, SESSION_COOKIE) || soapCookie,
    securityToken: headerValue(headers, 'x-security-token') || (location?.headerSecurityToken?.text.trim() ?? ''),
  }
}
