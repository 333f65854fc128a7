/**
 * Stateless proxy sessions (docs/architecture.md#proxy-sessions): any replica sharing
 * `sessions.secret` verifies any other's tokens, so no shared store.
 *
 * Session token:  `___` + payload + `.` + HMAC(k_session, payload)
 * Security token: `@`   + payload + `.` + HMAC(k_security, payload)
 * payload = base64url(JSON { v, i: integration, id, iat, exp, g: generation }).
 * The generation is a keyed digest of the integration's credentials when
 * the session was issued: a session verifies only while the configuration
 * gives its integration the same one (a rotated password ends it).
 * Both are base64url plus one '.', so they survive XML text and cookies
 * unescaped, never contain '/' (not mistaken for inline login/password),
 * and are told apart from Campaign's own tokens (`___<uuid>` with hyphens,
 * `@<base64>` with '+', '/' or '=') by their shape.
 */
import { createHmac, createSecretKey, hkdfSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto'
import { LRUCache } from 'lru-cache'

export const SESSION_TOKEN_PREFIX = '___'
export const SECURITY_TOKEN_PREFIX = '@'
export const MAX_REVOKED_SESSIONS = 100_000
/** Verified tokens remembered (only tokens this secret signed get in). */
export const MAX_VERIFIED_TOKENS = 10_000
const SHAPE = /^(?:___|@)[A-Za-z0-9_-]{16,400}\.[A-Za-z0-9_-]{43}$/
/** Characters of a credential generation: base64url of HMAC-SHA256 truncated to 96 bits. */
export const GENERATION_LENGTH = 16

export interface ProxySession {
  readonly integration: string
  readonly id: string
  readonly issuedAt: number
  readonly expiresAt: number
  /** The integration's credential generation when the session was issued ('' in tokens from before generations). */
  readonly generation: string
}

export type SessionCheck =
  | { readonly ok: true, readonly session: ProxySession }
  | { readonly ok: false, readonly reason: 'malformed' | 'signature' | 'expired' | 'revoked' | 'security-token-mismatch' | 'credentials-changed' }

/**
 * The current credential generation of the integration named, from the
 * configuration in force; undefined when no integration has that name (the
 * caller refuses such a session itself).
 */
export type CurrentGenerations = (integration: string) => string | undefined

export interface SessionTokensOptions {
  readonly secret: string | Buffer
  readonly ttlSeconds: number
  readonly now?: () => number
  readonly maxRevoked?: number
  /** Logoffs of earlier instances with the same secret (a reload that changed only the lifetime keeps them). */
  readonly revocations?: Revocations
}

/**
 * The sessions a replica has seen logged off, until each would have
 * expired. Bounded: when it is full, the oldest revocation makes room, and
 * every session of that integration issued no later than the evicted one
 * is refused from then on (a watermark per integration). So losing a
 * revocation can only refuse more sessions (their clients log on again),
 * never accept a logged-off one, however many Logoffs a caller sends.
 */
export class Revocations {
  readonly #ids: LRUCache<string, ProxySession>
  readonly #issuedUpTo = new Map<string, number>()
  readonly #now: () => number

  constructor (max: number, now: () => number) {
    this.#now = now
    this.#ids = new LRUCache<string, ProxySession>({
      max,
      ttlAutopurge: false,
      ttlResolution: 0,
      perf: { now },
      dispose: (session, _id, reason) => {
        if (reason !== 'evict' || session.expiresAt <= now()) return
        this.#issuedUpTo.set(session.integration, Math.max(this.#issuedUpTo.get(session.integration) ?? 0, session.issuedAt))
      },
    })
  }

  add (session: ProxySession): void {
    this.#ids.set(session.id, session, { ttl: Math.max(1, session.expiresAt - this.#now()) })
  }

  has (session: ProxySession): boolean {
    const upTo = this.#issuedUpTo.get(session.integration)
    return (upTo !== undefined && session.issuedAt <= upTo) || this.#ids.has(session.id)
  }
}

export class SessionTokens {
  readonly #sessionKey: KeyObject
  readonly #securityKey: KeyObject
  readonly #generationKey: KeyObject
  readonly #ttlMs: number
  readonly #now: () => number
  readonly #revoked: Revocations
  /** Tokens whose signature was verified, with what they say: a session's later calls skip the HMAC and the decoding (expiry, revocation and generation are checked every time). */
  readonly #signed = new LRUCache<string, ProxySession>({ max: MAX_VERIFIED_TOKENS })

  constructor (options: SessionTokensOptions) {
    // A KeyObject made once: createHmac with a raw Buffer key imports it again on every call (about 10 times slower).
    const derive = (label: string): KeyObject => createSecretKey(Buffer.from(hkdfSync('sha256', options.secret, 'campaign-ims-proxy', label, 32)))
    this.#sessionKey = derive('session token v1')
    this.#securityKey = derive('security token v1')
    this.#generationKey = derive('credential generation v1')
    this.#ttlMs = options.ttlSeconds * 1000
    this.#now = options.now ?? Date.now
    this.#revoked = options.revocations ?? new Revocations(options.maxRevoked ?? MAX_REVOKED_SESSIONS, this.#now)
  }

  get revocations (): Revocations {
    return this.#revoked
  }

  /**
   * The credential generation of an integration: a keyed digest of what
   * identifies its credentials (`parts`: name, mode, login, passwordHash,
   * technical account). Every replica with the same secret and the same
   * configuration computes the same one; it says nothing of the hash to
   * whoever reads the token's payload.
   */
  generation (parts: readonly (string | undefined)[]): string {
    return createHmac('sha256', this.#generationKey).update(JSON.stringify(parts)).digest('base64url').slice(0, GENERATION_LENGTH)
  }

  /** A new session of `integration`, bound to its current credential `generation`. */
  issue (integration: string, generation: string): { readonly sessionToken: string, readonly securityToken: string, readonly session: ProxySession } {
    const issuedAt = this.#now()
    const session: ProxySession = { integration, id: randomBytes(16).toString('base64url'), issuedAt, expiresAt: issuedAt + this.#ttlMs, generation }
    const payload = Buffer.from(JSON.stringify({ v: 2, i: integration, id: session.id, iat: issuedAt, exp: session.expiresAt, g: generation })).toString('base64url')
    return {
      sessionToken: `${SESSION_TOKEN_PREFIX}${payload}.${mac(this.#sessionKey, payload)}`,
      securityToken: `${SECURITY_TOKEN_PREFIX}${payload}.${mac(this.#securityKey, payload)}`,
      session,
    }
  }

  /** One of ours by its shape (no crypto): such a token is answered locally, never forwarded. */
  isProxyShaped (token: string): boolean {
    return SHAPE.test(token)
  }

  /** Verifies a session token, and its security token when one is presented ('' when none), against the `current` generations. */
  verify (sessionToken: string, securityToken: string, current: CurrentGenerations): SessionCheck {
    const check = this.#check(sessionToken, SESSION_TOKEN_PREFIX, this.#sessionKey, current)
    if (!check.ok || securityToken === '') return check
    const security = this.#check(securityToken, SECURITY_TOKEN_PREFIX, this.#securityKey, current)
    return security.ok && security.session.id === check.session.id ? check : { ok: false, reason: 'security-token-mismatch' }
  }

  /** Verifies a security token alone (acc-js-sdk's `ofSecurityToken` mode sends no session token). */
  verifySecurityToken (securityToken: string, current: CurrentGenerations): SessionCheck {
    return this.#check(securityToken, SECURITY_TOKEN_PREFIX, this.#securityKey, current)
  }

  /** Ends a session on this replica (Logoff): remembered until it would have expired anyway. */
  revoke (session: ProxySession): void {
    this.#revoked.add(session)
  }

  #check (token: string, prefix: string, key: KeyObject, current: CurrentGenerations): SessionCheck {
    // The prefix first: a session token is never taken for a security token (both are in the cache).
    if (!token.startsWith(prefix)) return { ok: false, reason: 'malformed' }
    let session = this.#signed.get(token)
    if (session === undefined) {
      if (!SHAPE.test(token)) return { ok: false, reason: 'malformed' }
      const [payload, signature] = token.slice(prefix.length).split('.') as [string, string]
      const expected = Buffer.from(mac(key, payload))
      if (!timingSafeEqual(expected, Buffer.from(signature))) return { ok: false, reason: 'signature' }
      const data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { i: string, id: string, iat: number, exp: number, g?: string }
      session = { integration: data.i, id: data.id, issuedAt: data.iat, expiresAt: data.exp, generation: data.g ?? '' }
      this.#signed.set(token, session)
    }
    if (this.#now() >= session.expiresAt) return { ok: false, reason: 'expired' }
    if (this.#revoked.has(session)) return { ok: false, reason: 'revoked' }
    // After the cache: a token verified under earlier credentials is refused once they change.
    const expected = current(session.integration)
    if (expected !== undefined && !sameGeneration(expected, session.generation)) return { ok: false, reason: 'credentials-changed' }
    return { ok: true, session }
  }
}

function mac (key: KeyObject, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url')
}

/** Constant-time comparison of two generations (their length is no secret: always GENERATION_LENGTH, or '' in old tokens). */
function sameGeneration (a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))
}
