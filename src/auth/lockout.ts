/**
 * Campaign's lockout for failed logons (XtkSecurity_max_Unsuccessul_Attempts_Allowed:
 * 3 failures, 5-minute ban), kept per login and caller address so one
 * misbehaving client cannot lock a login out for everyone. Bounded memory.
 */
import { LRUCache } from 'lru-cache'

export const LOCKOUT_DEFAULTS = { maxFailures: 3, windowSeconds: 600, lockSeconds: 300, maxEntries: 10_000 } as const

interface Entry { failures: number[], lockedUntil: number }

export interface LockoutOptions {
  readonly maxFailures?: number
  readonly windowSeconds?: number
  readonly lockSeconds?: number
  readonly maxEntries?: number
  readonly now?: () => number
}

export class LoginLockout {
  readonly #entries: LRUCache<string, Entry>
  readonly #maxFailures: number
  readonly #windowMs: number
  readonly #lockMs: number
  readonly #now: () => number

  constructor (options: LockoutOptions = {}) {
    this.#maxFailures = options.maxFailures ?? LOCKOUT_DEFAULTS.maxFailures
    this.#windowMs = (options.windowSeconds ?? LOCKOUT_DEFAULTS.windowSeconds) * 1000
    this.#lockMs = (options.lockSeconds ?? LOCKOUT_DEFAULTS.lockSeconds) * 1000
    this.#now = options.now ?? Date.now
    this.#entries = new LRUCache({ max: options.maxEntries ?? LOCKOUT_DEFAULTS.maxEntries })
  }

  isLocked (login: string, address: string): { readonly locked: boolean, readonly retryAfterSeconds?: number } {
    const lockedUntil = this.#entries.get(key(login, address))?.lockedUntil ?? 0
    const now = this.#now()
    return lockedUntil > now ? { locked: true, retryAfterSeconds: Math.ceil((lockedUntil - now) / 1000) } : { locked: false }
  }

  recordFailure (login: string, address: string): { readonly locked: boolean, readonly failures: number } {
    const now = this.#now()
    const entry = this.#entries.get(key(login, address)) ?? { failures: [], lockedUntil: 0 }
    entry.failures = [...entry.failures.filter(at => at > now - this.#windowMs), now]
    if (entry.failures.length >= this.#maxFailures) {
      entry.lockedUntil = now + this.#lockMs
      entry.failures = []
    }
    this.#entries.set(key(login, address), entry)
    return { locked: entry.lockedUntil > now, failures: entry.failures.length }
  }

  recordSuccess (login: string, address: string): void {
    this.#entries.delete(key(login, address))
  }
}

function key (login: string, address: string): string {
  return `${login}\0${address}`
}
