/**
 * Which method Campaign will run, as the proxy must see it
 * (docs/security.md#soap-structure). Campaign may dispatch on the method
 * element of the Body, on the `SOAPAction` header, on the SOAP 1.2
 * `action` media type parameter, or on acc-js-sdk's `?soapAction=` query
 * parameter; the proxy identifies the caller and rewrites by the Body.
 * So every action the request names must be the Body's method, and the
 * session calls (Logon, Logoff, BearerTokenLogon) are recognised only in
 * their one canonical spelling: any other spelling of them is refused,
 * never forwarded with the proxy's token.
 */
import { ProxyFault } from './faults.js'
import type { SoapLocation } from './locate-scanner.js'

/** `xtk:session` methods that create or end a Campaign session. */
export const SESSION_CALLS = new Set(['xtk:session#Logon', 'xtk:session#Logoff', 'xtk:session#BearerTokenLogon'])
const SESSION_CALL_NAMES = new Set(['logon', 'logoff', 'bearertokenlogon'])
const ACTION_PARAMETER = /;\s*action\s*=\s*(?:"([^"]*)"|([^;\s]*))/i

/** The actions a request names besides its Body, as written. */
export interface NamedActions {
  readonly soapAction: string | string[] | undefined
  readonly contentType: string | undefined
  /** The request target's query string (after `?`), '' when none. */
  readonly query: string
}

/**
 * Refuses a request whose Body spells a session call in any but its
 * canonical form, or that names an action other than its Body's method.
 */
export function checkDispatch (location: SoapLocation, named: NamedActions): void {
  const { soapMethod } = location
  if (!SESSION_CALLS.has(soapMethod) && isSessionCallSpelling(location.urn, location.method)) {
    throw new ProxyFault('badStructure', { detail: `${JSON.stringify(soapMethod.slice(0, 64))} is not the canonical spelling of an xtk:session call` })
  }
  for (const action of actionsOf(named)) {
    if (action !== soapMethod) throw new ProxyFault('actionMismatch', { detail: `the request names ${JSON.stringify(action.slice(0, 64))}, its Body ${JSON.stringify(soapMethod.slice(0, 64))}` })
  }
}

/** Whether `urn` + `method` could be read as an `xtk:session` session call by a lenient reader (case, spaces, a pipe list). */
function isSessionCallSpelling (urn: string, method: string): boolean {
  if (!SESSION_CALL_NAMES.has(method.trim().toLowerCase())) return false
  return urn.slice(4).split('|').some(schema => schema.trim().toLowerCase() === 'xtk:session')
}

/** Every non-empty action named outside the Body, normalised (quotes, spaces and a `urn:` prefix removed). */
function actionsOf ({ soapAction, contentType, query }: NamedActions): string[] {
  const actions: string[] = []
  const add = (raw: string | undefined): void => {
    const action = normalised(raw ?? '')
    if (action !== '') actions.push(action)
  }
  for (const value of Array.isArray(soapAction) ? soapAction : [soapAction]) add(value)
  if (contentType !== undefined) {
    const match = ACTION_PARAMETER.exec(contentType)
    if (match !== null) add(match[1] ?? match[2])
  }
  if (query !== '' && /soapaction=/i.test(query)) {
    for (const [name, value] of new URLSearchParams(query)) {
      if (name.toLowerCase() === 'soapaction') add(value)
    }
  }
  return actions
}

function normalised (raw: string): string {
  let action = raw.trim()
  if (action.length >= 2 && action.startsWith('"') && action.endsWith('"')) action = action.slice(1, -1).trim()
  return /^urn:/i.test(action) ? action.slice(4) : action
}
