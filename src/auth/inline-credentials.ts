/**
 * Inline `login/password` session tokens (Message Center's `mc/PASSWORD`):
 * verified once with scrypt, then remembered for a while so high-rate event
 * pushes do not pay scrypt per call. The cache key is an HMAC of login and
 * password under a per-process random key: the plain password is never
 * stored, and the entry is bound to the configured hash, so changing
 * `passwordHash` invalidates it.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto'
import { LRUCache } from 'lru-cache'

export const VERIFIED_CREDENTIALS_DEFAULTS = { ttlSeconds: 300, max: 10_000 } as const

/** Splits `login/password` on the first '/'; undefined for session tokens (`___…`, `@…`) and incomplete pairs. */
export function splitInlineCredentials (token: string): { readonly login: string, readonly password: string } | undefined {
  const slash = token.indexOf('/')
  if (slash <= 0 || slash === token.length - 1 || token.startsWith('___') || token.startsWith('@')) return undefined
  return { login: token.slice(0, slash), password: token.slice(slash + 1) }
}

export interface VerifiedCredentialOptions {
  /** Random per process; 32 bytes. */
  readonly key: Buffer
  readonly ttlSeconds?: number
  readonly max?: number
  readonly now?: () => number
}

export class VerifiedCredentialCache {
  readonly #key: KeyObject
  readonly #cache: LRUCache<string, true>

  constructor (options: VerifiedCredentialOptions) {
    // A KeyObject made once: createHmac with a raw Buffer key imports it again on every call.
    this.#key = createSecretKey(options.key)
    this.#cache = new LRUCache<string, true>({
      max: options.max ?? VERIFIED_CREDENTIALS_DEFAULTS.max,
      ttl: (options.ttlSeconds ?? VERIFIED_CREDENTIALS_DEFAULTS.ttlSeconds) * 1000,
      // ttlResolution 0: read the (injectable) clock on every check instead of caching it for a tick.
      ttlResolution: 0,
      ...(options.now === undefined ? {} : { perf: { now: options.now } }),
    })
  }

  /** The cache key for a pair checked against `passwordHash`: an HMAC, never the password. */
  cacheKey (login: string, password: string, passwordHash: string): string {
    return createHmac('sha256', this.#key).update(`${login}\0${password}\0${passwordHash}`).digest('hex')
  }

  has (login: string, password: string, passwordHash: string): boolean {
    return this.hasKey(this.cacheKey(login, password, passwordHash))
  }

  /** As `has`, with a key from `cacheKey` (computed once per check). */
  hasKey (key: string): boolean {
    return this.#cache.has(key)
  }

  remember (login: string, password: string, passwordHash: string): void {
    this.rememberKey(this.cacheKey(login, password, passwordHash))
  }

  rememberKey (key: string): void {
    this.#cache.set(key, true)
  }

  /** The stored keys (for tests and diagnostics: HMACs only). */
  keys (): string[] {
    return [...this.#cache.keys()]
  }
}
