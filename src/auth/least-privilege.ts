/**
 * Least privilege per integration (docs/security.md#least-privilege): an
 * integration with `allowedMethods` or `allowedPaths` may make only the
 * calls they list. Logon and Logoff are authentication, not privileges:
 * always allowed; so is the WSDL (schema metadata).
 */
import { allowsMethod, allowsPath, type LeastPrivilegeRefusal } from '../config/allow-list.js'
import type { IntegrationConfig } from '../config/types.js'
import { LOGOFF_METHOD, LOGON_METHOD, SOAP_ROUTER_PATH, WSDL_PATH } from './identity.js'

/** Why `integration` may not make this call, or undefined when it may. `soapMethod`: the Body's method of a SOAP router POST. */
export function leastPrivilegeRefusal (integration: IntegrationConfig, path: string, soapMethod: string | undefined): LeastPrivilegeRefusal | undefined {
  const { allowedMethods, allowedPaths } = integration
  if (allowedMethods === undefined && allowedPaths === undefined) return undefined
  if (path === SOAP_ROUTER_PATH) {
    if (soapMethod === undefined || allowedMethods === undefined || soapMethod === LOGON_METHOD || soapMethod === LOGOFF_METHOD) return undefined
    if (allowsMethod(allowedMethods, soapMethod)) return undefined
    return 'method'
  }
  if (path === WSDL_PATH) return undefined
  // With allowedMethods alone, nothing beyond the SOAP router and the WSDL.
  if (allowedPaths !== undefined && allowsPath(allowedPaths, path)) return undefined
  return 'path'
}
