/**
 * Everything the request path derives from the configuration, built once
 * per configuration (start and reload) and replaced as a whole: a request
 * keeps the routing it started with.
 */
import { createHash, randomBytes } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { CertificateMatcher } from '../auth/client-certificates.js'
import type { IdentityTables } from '../auth/identity.js'
import { blockListOf, networkMatcher } from '../auth/networks.js'
import { SessionTokens } from '../auth/sessions.js'
import type { Config, IntegrationConfig } from '../config/types.js'

/** Session tokens Campaign issued to passthrough callers, remembered to attribute (and admit) their later calls. */
export const MAX_REMEMBERED_SESSIONS = 10_000
export const REMEMBERED_SESSION_TTL_MS = 24 * 3600 * 1000

export interface RememberedSession {
  readonly integration: string | undefined
  readonly login: string | undefined
}

/**
 * The passthrough sessions remembered here (by token) and those other
 * replicas remembered (by a digest of the token, as the shared store
 * carries it: never the token itself).
 */
export class RememberedSessions {
  readonly #byToken: LRUCache<string, RememberedSession>
  readonly #byDigest: LRUCache<string, RememberedSession>
  readonly #now: () => number
  /** Set when a shared store tells the other replicas. */
  onRemember: ((digest: string, session: RememberedSession) => void) | undefined

  constructor (now: () => number) {
    this.#now = now
    const options = { max: MAX_REMEMBERED_SESSIONS, ttl: REMEMBERED_SESSION_TTL_MS, ttlResolution: 0, perf: { now } }
    this.#byToken = new LRUCache<string, RememberedSession>(options)
    this.#byDigest = new LRUCache<string, RememberedSession>(options)
  }

  set (sessionToken: string, session: RememberedSession): void {
    this.#byToken.set(sessionToken, session)
    this.onRemember?.(sessionDigest(sessionToken), session)
  }

  get (sessionToken: string): RememberedSession | undefined {
    // The digest only when another replica told of a session: no hashing on a single replica.
    return this.#byToken.get(sessionToken) ?? (this.#byDigest.size === 0 ? undefined : this.#byDigest.get(sessionDigest(sessionToken)))
  }

  /** A session another replica remembered at `at`: valid here for the rest of its time. */
  setElsewhere (digest: string, session: RememberedSession, at: number): void {
    const ttl = REMEMBERED_SESSION_TTL_MS - (this.#now() - at)
    if (ttl > 0) this.#byDigest.set(digest, session, { ttl })
  }
}

/** What the shared store carries of a Campaign session token: its SHA-256 (the token has far too much entropy to be guessed from it). */
export function sessionDigest (sessionToken: string): string {
  return createHash('sha256').update(sessionToken).digest('base64url')
}

export function rememberedSessions (now: () => number): RememberedSessions {
  return new RememberedSessions(now)
}

/**
 * The credential generation of `integration` (docs/legacy-sessions.md#sessions-and-credential-changes):
 * its sessions stay valid only while this is unchanged, so a new
 * passwordHash, login or technical account, or another integration later
 * configured under its name, ends them.
 */
export function generationOf (sessions: SessionTokens, integration: IntegrationConfig): string {
  const account = integration.technicalAccount
  // A per-instance map enters as its entries, so a new account on any instance ends the sessions too.
  return sessions.generation([integration.name, integration.mode, integration.login, integration.passwordHash, typeof account === 'object' ? JSON.stringify([...account]) : account])
}

/** The technical account `integration` uses on Campaign instance `campaign`; undefined when it may not call that instance. */
export function accountOn (integration: IntegrationConfig, campaign: string): string | undefined {
  const account = integration.technicalAccount
  return typeof account === 'object' ? account.get(campaign) : account
}

export interface Routing {
  readonly config: Config
  readonly sessionSecret: string | undefined
  readonly sessions: SessionTokens
  readonly identity: IdentityTables
  readonly trustedProxies: ReturnType<typeof blockListOf> | undefined
}

/**
 * The routing of `config`. With the same `sessions.secret` as `previous`,
 * its Logoff revocations carry over (a logged-off session stays refused
 * whatever else changed); a new secret invalidates every session anyway.
 */
export function routingOf (config: Config, sessionSecret: string | undefined, remembered: RememberedSessions, now: () => number, previous?: Routing): Routing {
  const sameSecret = previous !== undefined && sessionSecret !== undefined && previous.sessionSecret === sessionSecret
  const sessions = sameSecret && previous.config.sessions.ttlSeconds === config.sessions.ttlSeconds
    ? previous.sessions
    : new SessionTokens({ secret: sessionSecret ?? randomBytes(32), ttlSeconds: config.sessions.ttlSeconds, now, ...(sameSecret ? { revocations: previous.sessions.revocations } : {}) })
  const byLogin = (mode: IntegrationConfig['mode']): ReadonlyMap<string, IntegrationConfig> =>
    new Map(config.integrations.filter(i => i.mode === mode && i.login !== undefined).map(i => [i.login as string, i]))
  const networks = networkMatcher(config.integrations.map(i => ({ networks: i.networks, value: i })))
  const certificates = new CertificateMatcher(config.integrations.map(i => ({ certificates: i.clientCertificates, value: i })))
  const generations = new Map(config.integrations.map(i => [i.name, generationOf(sessions, i)]))
  const current = (integration: string): string | undefined => generations.get(integration)
  return {
    config,
    sessionSecret,
    sessions,
    trustedProxies: config.trustedProxies.length === 0 ? undefined : blockListOf(config.trustedProxies),
    identity: {
      imsByLogin: byLogin('ims'),
      passthroughByLogin: byLogin('passthrough'),
      byName: new Map(config.integrations.map(i => [i.name, i])),
      byNetwork: address => networks.match(address),
      byCertificate: identity => certificates.match(identity),
      hasCertificates: certificates.size > 0,
      isProxyShaped: token => sessions.isProxyShaped(token),
      verifySession: (sessionToken, securityToken) => sessions.verify(sessionToken, securityToken, current),
      verifySecurityToken: securityToken => sessions.verifySecurityToken(securityToken, current),
      rememberedSession: sessionToken => remembered.get(sessionToken),
      unknownCallers: config.unknownCallers,
      wsdlAccount: config.wsdl.technicalAccount,
    },
  }
}
