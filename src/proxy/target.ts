/**
 * Path parity with Campaign's servlet container (docs/security.md#path-parity).
 *
 * Tomcat strips `;name=value` path parameters, percent-decodes, and
 * resolves dot segments and doubled slashes before it routes a request, so
 * `/nl/jsp/%73oaprouter.jsp;x=1` is the SOAP router to Campaign. The proxy
 * decides "is this the SOAP router, the WSDL" on the path as written; the
 * two views agree only when the path is already in that canonical form.
 * So a target that is not is refused (400, never forwarded) rather than
 * normalised: what the proxy checked is byte for byte what Campaign gets.
 */

/**
 * In the path (before `?`): `;` (path parameters), `\`, `//`, a dot
 * segment, a `%` not followed by two hex digits, an escaped unreserved
 * character (ALPHA, DIGIT, `-`, `.`, `_`, `~`: Tomcat decodes them to the
 * same resource), an escaped `/`, `\` or NUL. Anywhere: `#` (a fragment
 * is never sent; a target holding one is not what the client meant),
 * bytes outside printable ASCII.
 */
const NOT_CANONICAL_PATH = /[;\\]|\/\/|\/\.\.?(?:\/|$)|%(?![0-9A-Fa-f]{2})|%(?:3[0-9]|4[1-9A-Fa-f]|5[0-9Aa]|6[1-9A-Fa-f]|7[0-9Aa]|2[DdEeFf]|5[CcFf]|7[Ee]|00)/
const NOT_PRINTABLE_OR_FRAGMENT = /[^\x21-\x7e]|#/

/** Paths the proxy treats specially; a longer path under one of them (`…/soaprouter.jsp/x`) is refused too. */
const SPECIAL = ['/nl/jsp/soaprouter.jsp/', '/nl/jsp/schemawsdl.jsp/']

/** The path of an origin-form request target (without its query), or undefined when the target is not canonical. */
export function canonicalPathOf (target: string): string | undefined {
  if (target.charCodeAt(0) !== 0x2f || NOT_PRINTABLE_OR_FRAGMENT.test(target)) return undefined
  const query = target.indexOf('?')
  const path = query === -1 ? target : target.slice(0, query)
  if (NOT_CANONICAL_PATH.test(path)) return undefined
  for (const special of SPECIAL) {
    if (path.startsWith(special)) return undefined
  }
  return path
}
