/**
 * Who is calling, decided once per request as an ordered chain of small
 * resolvers (docs/architecture.md#identity-order), the shape of
 * oauth2-proxy's session loaders. Each resolver looks at one way of being
 * identified and either decides, passes on what it learnt (a login, a
 * passthrough integration), or says nothing. The decision is data: what
 * to do is up to the caller (verify a password, answer locally, inject a
 * token, forward untouched or refuse), so this module does no I/O and
 * throws nothing for normal outcomes.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { IntegrationConfig } from '../config/types.js'
import type { ProxyFaultName } from '../soap/faults.js'
import type { SoapLocation } from '../soap/locate.js'
import type { ClientIdentity } from './client-certificates.js'
import { presentedCredentials, type PresentedCredentials } from './credentials.js'
import { splitInlineCredentials } from './inline-credentials.js'
import type { ProxySession, SessionCheck } from './sessions.js'

export const SOAP_ROUTER_PATH = '/nl/jsp/soaprouter.jsp'
export const WSDL_PATH = '/nl/jsp/schemawsdl.jsp'
export const LOGON_METHOD = 'xtk:session#Logon'
export const LOGOFF_METHOD = 'xtk:session#Logoff'
/** Mints a Campaign session from the IMS token it carries: never sent with the proxy's own token. */
export const BEARER_TOKEN_LOGON_METHOD = 'xtk:session#BearerTokenLogon'

/** How the caller was identified, for logs, metrics and the inventory. */
export type AuthPath = 'logon' | 'logoff' | 'session' | 'inline-password' | 'certificate' | 'network' | 'wsdl' | 'passthrough' | 'client-bearer' | 'anonymous'

/** What the decision knows of the caller, whatever it decided. */
export interface Caller {
  /** The configured integration the call is attributed to (an `ims` one, or a passthrough one). */
  readonly integration: IntegrationConfig | undefined
  /** A login seen in a Logon or an inline login/password that no `ims` integration has. */
  readonly login: string | undefined
  readonly authPath: AuthPath
}

/** A password the caller (Logon, inline login/password) presented, to verify before acting on the decision. */
export interface PresentedPassword {
  readonly integration: IntegrationConfig
  readonly login: string
  readonly password: string
}

export type IdentityDecision =
  /** Rewrite the request and add the bearer of `account`; first verify `password` when set. */
  | Caller & { readonly kind: 'inject', readonly account: string, readonly password?: PresentedPassword }
  /** Forward byte for byte, no token; `rememberLogon`: remember the session token of Campaign's LogonResponse. */
  | Caller & { readonly kind: 'forward', readonly rememberLogon: boolean }
  /** Verify `password`, then answer the Logon locally with a new proxy session. */
  | Caller & { readonly kind: 'logon', readonly integration: IntegrationConfig, readonly password: PresentedPassword, readonly urn: string }
  /** End `session` and answer the Logoff locally. */
  | Caller & { readonly kind: 'logoff', readonly session: ProxySession, readonly urn: string }
  /** Answer `fault` locally, forward nothing. */
  | Caller & { readonly kind: 'refuse', readonly fault: ProxyFaultName, readonly detail: string }

/** The request as identity sees it. */
export interface IdentityRequest {
  readonly method: string
  /** The path without its query. */
  readonly path: string
  readonly headers: IncomingHttpHeaders
  /** The located SOAP body (SOAP router POSTs only). */
  readonly location: SoapLocation | undefined
  /** The client's address (through trusted proxies). */
  readonly caller: string
  /** The verified client certificate of the connection, when there is one. */
  readonly certificate: ClientIdentity | undefined
}

/** The configuration-derived lookups the resolvers need (built once per configuration). */
export interface IdentityTables {
  readonly imsByLogin: ReadonlyMap<string, IntegrationConfig>
  readonly passthroughByLogin: ReadonlyMap<string, IntegrationConfig>
  readonly byName: ReadonlyMap<string, IntegrationConfig>
  readonly byNetwork: (address: string) => IntegrationConfig | undefined
  readonly byCertificate: (identity: ClientIdentity) => IntegrationConfig | undefined
  /** Whether any integration is identified by certificate. */
  readonly hasCertificates: boolean
  readonly isProxyShaped: (token: string) => boolean
  readonly verifySession: (sessionToken: string, securityToken: string) => SessionCheck
  readonly verifySecurityToken: (securityToken: string) => SessionCheck
  /** A session Campaign issued to a passthrough caller, remembered from its LogonResponse. */
  readonly rememberedSession: (sessionToken: string) => { readonly integration: string | undefined, readonly login: string | undefined } | undefined
  readonly unknownCallers: 'passthrough' | 'reject'
  readonly wsdlAccount: string | undefined
}

/** What earlier resolvers learnt without deciding. */
interface Attribution {
  readonly integration: IntegrationConfig | undefined
  readonly login: string | undefined
}

interface Input {
  readonly request: IdentityRequest
  readonly tables: IdentityTables
  readonly credentials: PresentedCredentials
}

type Resolver = (input: Input, seen: Attribution) => IdentityDecision | Attribution | undefined

const NOBODY: Attribution = { integration: undefined, login: undefined }

/** 1. `xtk:session#Logon`: an `ims` login is answered locally; any other is Campaign's to answer. */
const logon: Resolver = ({ request, tables, credentials }) => {
  const location = request.location
  if (location?.soapMethod !== LOGON_METHOD) return undefined
  const login = location.params[1]?.text ?? ''
  const integration = tables.imsByLogin.get(login)
  if (integration !== undefined) {
    return { kind: 'logon', integration, login: undefined, authPath: 'logon', urn: location.urn, password: { integration, login, password: location.params[2]?.text ?? '' } }
  }
  // A native Logon: forwarded untouched, its session token remembered to attribute the caller's next calls.
  const passthrough = tables.passthroughByLogin.get(login)
  if (passthrough === undefined && tables.unknownCallers === 'reject') return refuse({ integration: undefined, login, authPath: 'passthrough' }, 'sessionInvalid', 'unknown caller')
  // Forwarded byte for byte: a proxy token it carries would reach Campaign.
  if (presentsProxyToken(tables, credentials)) return refuse({ integration: passthrough, login, authPath: 'passthrough' }, 'sessionInvalid', 'a proxy session presented with a Campaign Logon')
  return { kind: 'forward', integration: passthrough, login, authPath: 'passthrough', rememberLogon: true }
}

/**
 * 2-3. A proxy session (any credential location and spelling), Logoff
 * included: ours to verify, never forwarded when bad. A proxy-shaped token
 * anywhere makes the request ours; then exactly one session token and one
 * security token may be presented (the same value in several places is
 * one), as Campaign could read a different one than the proxy verified.
 */
const proxySession: Resolver = ({ request, tables, credentials }) => {
  if (!presentsProxyToken(tables, credentials)) return undefined
  const isLogoff = request.location?.soapMethod === LOGOFF_METHOD
  const authPath: AuthPath = isLogoff ? 'logoff' : 'session'
  const { sessionTokens, securityTokens } = credentials
  if (sessionTokens.length > 1 || securityTokens.length > 1) {
    return refuse({ integration: undefined, login: undefined, authPath }, 'sessionInvalid', 'several different session or security tokens presented')
  }
  const sessionToken = sessionTokens[0] ?? ''
  const securityToken = securityTokens[0] ?? ''
  const check = sessionToken === '' ? tables.verifySecurityToken(securityToken) : tables.verifySession(sessionToken, securityToken)
  if (!check.ok) return refuse({ integration: undefined, login: undefined, authPath }, 'sessionInvalid', `proxy session ${check.reason}`)
  const integration = tables.byName.get(check.session.integration)
  if (integration?.mode !== 'ims') {
    return refuse({ integration: undefined, login: undefined, authPath }, 'sessionInvalid', 'the session belongs to an integration that is no longer configured')
  }
  const caller = { integration, login: undefined, authPath }
  if (isLogoff) return { ...caller, kind: 'logoff', session: check.session, urn: (request.location as SoapLocation).urn }
  return { ...caller, kind: 'inject', account: accountOf(integration) }
}

/** 4. `login/password` in the session token. */
const inlinePassword: Resolver = ({ tables, credentials }) => {
  const inline = splitInlineCredentials(credentials.sessionToken)
  if (inline === undefined) return undefined
  const integration = tables.imsByLogin.get(inline.login)
  if (integration !== undefined) {
    return { kind: 'inject', integration, login: undefined, authPath: 'inline-password', account: accountOf(integration), password: { integration, ...inline } }
  }
  return { integration: tables.passthroughByLogin.get(inline.login), login: inline.login }
}

/** 5. A session Campaign issued to a passthrough caller (attribution only). */
const rememberedSession: Resolver = ({ tables, credentials }, seen) => {
  const known = credentials.sessionToken === '' ? undefined : tables.rememberedSession(credentials.sessionToken)
  if (known === undefined) return undefined
  return { login: known.login, integration: seen.integration ?? (known.integration === undefined ? undefined : tables.byName.get(known.integration)) }
}

/** 6. A verified client certificate (mTLS). */
const certificate: Resolver = ({ request, tables }, seen) => {
  if (seen.integration !== undefined || !tables.hasCertificates || request.certificate === undefined) return undefined
  const certified = tables.byCertificate(request.certificate)
  if (certified === undefined) return undefined
  if (certified.mode === 'ims') {
    return { kind: 'inject', integration: certified, login: undefined, authPath: 'certificate', account: accountOf(certified) }
  }
  return { ...seen, integration: certified }
}

/** 7. The caller's network. */
const network: Resolver = ({ request, tables }, seen) => {
  if (seen.integration !== undefined) return undefined
  const matched = tables.byNetwork(request.caller)
  if (matched === undefined) return undefined
  if (matched.mode === 'ims') {
    return { kind: 'inject', integration: matched, login: undefined, authPath: 'network', account: accountOf(matched) }
  }
  return { ...seen, integration: matched }
}

/** 8. An attributed passthrough integration: forwarded untouched (legacy authentication by definition). */
const passthroughIntegration: Resolver = (input, seen) => {
  if (seen.integration === undefined) return undefined
  const authPath = legacyAuthPath(input)
  return { kind: 'forward', ...seen, authPath: authPath === 'anonymous' ? 'passthrough' : authPath, rememberLogon: false }
}

/** 9. An anonymous WSDL GET, served with `wsdl.technicalAccount` (schema metadata only). */
const wsdl: Resolver = (input, seen) => {
  const { request, tables } = input
  if (tables.wsdlAccount === undefined || request.method !== 'GET' || request.path !== WSDL_PATH || legacyAuthPath(input) !== 'anonymous') return undefined
  return { kind: 'inject', ...seen, authPath: 'wsdl', account: tables.wsdlAccount }
}

/** 10. Everyone else: `unknownCallers`. */
const unknownCaller: Resolver = (input, seen) => {
  const caller = { ...seen, authPath: legacyAuthPath(input) }
  return input.tables.unknownCallers === 'reject' ? refuse(caller, 'sessionInvalid', 'unknown caller') : { kind: 'forward', ...caller, rememberLogon: false }
}

/** The documented order. */
export const RESOLVERS: readonly Resolver[] = [logon, proxySession, inlinePassword, rememberedSession, certificate, network, passthroughIntegration, wsdl, unknownCaller]

/** Decides what to do with a request, from the request alone. */
export function decideIdentity (request: IdentityRequest, tables: IdentityTables): IdentityDecision {
  const input: Input = { request, tables, credentials: presentedCredentials(request.headers, request.location) }
  let seen = NOBODY
  for (const resolve of RESOLVERS) {
    const out = resolve(input, seen)
    if (out === undefined) continue
    if ('kind' in out) return out.kind === 'inject' && request.location?.soapMethod === BEARER_TOKEN_LOGON_METHOD ? refuse(out, 'sessionInvalid', 'BearerTokenLogon is not sent with the proxy\'s token') : out
    seen = out
  }
  /* c8 ignore next -- the last resolver always decides */
  throw new Error('no identity resolver decided')
}

/** How a caller the proxy does not identify authenticates (for the inventory). */
function legacyAuthPath ({ request, credentials }: Input): AuthPath {
  if (credentials.sessionToken !== '' || credentials.securityToken !== '') return 'passthrough'
  const authorization = request.headers.authorization
  if (authorization === undefined) return 'anonymous'
  return /^bearer\s/i.test(authorization) ? 'client-bearer' : 'passthrough'
}

/** Whether any session or security token presented, in any location and spelling, is shaped like the proxy's. */
function presentsProxyToken (tables: IdentityTables, credentials: PresentedCredentials): boolean {
  const isProxyShaped = (token: string): boolean => tables.isProxyShaped(token)
  return credentials.sessionTokens.some(isProxyShaped) || credentials.securityTokens.some(isProxyShaped)
}

/**
 * The configuration requires a technical account in `ims` mode. With a
 * per-instance map the flow uses the account of the instance the request
 * is for instead (proxy/routing.ts `accountOn`).
 */
function accountOf (integration: IntegrationConfig): string {
  return integration.technicalAccount as string
}

function refuse (caller: Caller, fault: ProxyFaultName, detail: string): IdentityDecision {
  return { ...caller, kind: 'refuse', fault, detail }
}
