/**
 * The IMS simulator's token authority: issues JWT-shaped access tokens
 * signed RS256 (as Adobe IMS does) and verifies them for the Campaign
 * simulator, which shares this object.
 *
 * Payload fields follow Adobe's tokens: `created_at` and `expires_in` are
 * strings in MILLISECONDS, there is no `exp` claim.
 */
import { createSign, createVerify, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto'

export interface AccessTokenClaims {
  readonly id: string
  readonly type: 'access_token'
  readonly client_id: string
  readonly user_id: string
  readonly as: string
  readonly aa_id: string
  readonly scope: string
  /** Milliseconds since the epoch, as a decimal string. */
  readonly created_at: string
  /** Lifetime in milliseconds, as a decimal string. */
  readonly expires_in: string
}

export type VerifyResult =
  | { readonly ok: true, readonly claims: AccessTokenClaims }
  | { readonly ok: false, readonly reason: 'malformed' | 'signature' | 'expired' | 'revoked' }

const HEADER = { alg: 'RS256', x5u: 'ims_na1-key-at-1.cer', kid: 'ims_na1-key-at-1', itt: 'at' }
const TECHNICAL_ACCOUNT_DOMAIN = 'techacct.adobe.com'

function base64url (value: string | Buffer): string {
  return Buffer.from(value).toString('base64url')
}

/** The "Technical Account Email" Campaign names the technical operator after. */
export function technicalAccountEmail (clientId: string): string {
  return `${clientId.toLowerCase().replace(/[^a-z0-9]/g, '')}@${TECHNICAL_ACCOUNT_DOMAIN}`
}

export class TokenAuthority {
  readonly #privateKey: KeyObject
  readonly #publicKey: KeyObject
  readonly #revoked = new Set<string>()
  readonly #now: () => number
  readonly #region: string

  constructor (options: { now?: () => number, region?: string } = {}) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    this.#privateKey = privateKey
    this.#publicKey = publicKey
    this.#now = options.now ?? Date.now
    this.#region = options.region ?? 'ims-na1'
  }

  now (): number {
    return this.#now()
  }

  issue (clientId: string, scopes: readonly string[], lifetimeSeconds: number): { token: string, claims: AccessTokenClaims } {
    const claims: AccessTokenClaims = {
      id: `${this.#now()}_${randomUUID()}_ue1`,
      type: 'access_token',
      client_id: clientId,
      user_id: technicalAccountEmail(clientId),
      as: this.#region,
      aa_id: technicalAccountEmail(clientId),
      scope: scopes.join(','),
      created_at: String(this.#now()),
      expires_in: String(lifetimeSeconds * 1000),
    }
    const signingInput = `${base64url(JSON.stringify(HEADER))}.${base64url(JSON.stringify(claims))}`
    const signature = createSign('RSA-SHA256').update(signingInput).sign(this.#privateKey)
    return { token: `${signingInput}.${base64url(signature)}`, claims }
  }

  /** Makes a token invalid before its expiry, as revoking a credential in the Developer Console does. */
  revoke (token: string): void {
    this.#revoked.add(token)
  }

  verify (token: string): VerifyResult {
    const parts = token.split('.')
    if (parts.length !== 3) return { ok: false, reason: 'malformed' }
    const [header, payload, signature] = parts as [string, string, string]
    const isValid = createVerify('RSA-SHA256').update(`${header}.${payload}`).verify(this.#publicKey, Buffer.from(signature, 'base64url'))
    if (!isValid) return { ok: false, reason: 'signature' }
    let claims: AccessTokenClaims
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as AccessTokenClaims
      /* c8 ignore next 3 -- a correctly signed payload is always JSON: we signed it */
    } catch {
      return { ok: false, reason: 'malformed' }
    }
    if (this.#revoked.has(token)) return { ok: false, reason: 'revoked' }
    if (Number(claims.created_at) + Number(claims.expires_in) <= this.#now()) return { ok: false, reason: 'expired' }
    return { ok: true, claims }
  }
}
