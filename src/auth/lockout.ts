/**
 * The lockout for failed logons (docs/legacy-sessions.md#lockout), two
 * rules over one window:
 *
 * - per login and caller address, Campaign's own
 *   (XtkSecurity_max_Unsuccessul_Attempts_Allowed: 3 failures, a 5-minute
 *   ban), so one misbehaving client cannot lock a login out for everyone;
 * - per login across every address (`loginMaxFailures`, 20), so guesses
 *   spread over many addresses are bounded too. That lock does not apply
 *   to an address the login logged on from successfully in the last
 *   `knownAddressSeconds` (24 hours): an attacker can lock a login for new
 *   addresses, not for the integrations already running.
 *
 * Checks in progress count against both limits: `reserve` takes a place
 * synchronously, before any scrypt run, so concurrent attempts cannot all
 * pass a check made before the first of them is recorded. Memory is
 * bounded (LRU); the reservations live in their own maps, which hold only
 * the checks in progress, so evicting an entry never frees a place.
 */
import { LRUCache } from 'lru-cache'

export const LOCKOUT_DEFAULTS = { maxFailures: 3, windowSeconds: 600, lockSeconds: 300, loginMaxFailures: 20, knownAddressSeconds: 86_400, maxEntries: 10_000 } as const

export interface LockoutSettings {
  /** Failures of one login from one address within the window that lock it there. */
  readonly maxFailures: number
  readonly windowSeconds: number
  /** How long a lock lasts (both rules). */
  readonly lockSeconds: number
  /** Failures of one login from all addresses within the window that lock it for every address not known for it. */
  readonly loginMaxFailures: number
}

export interface LockoutOptions extends Partial<LockoutSettings> {
  readonly maxEntries?: number
  readonly knownAddressSeconds?: number
  readonly now?: () => number
}

/** What a recorded failure left: `locked` when the login is now refused from that address (by either rule). */
export interface FailureRecord {
  readonly locked: boolean
  /** Failures of the login from that address still counting (0 once they locked it). */
  readonly failures: number
  /** Whether the login is now locked for every address not known for it. */
  readonly loginLocked: boolean
}

/** A place taken by a check in progress; exactly one of its methods is called, once. */
export interface Reservation {
  /** The password was wrong: recorded as a failure. */
  failed (): FailureRecord
  /** The password was right. */
  succeeded (): void
  /** Nothing was evaluated (refused before scrypt, or scrypt failed): the place is given back. */
  released (): void
}

interface Entry { failures: number[], lockedUntil: number }

export class LoginLockout {
  readonly #addresses: LRUCache<string, Entry>
  readonly #logins: LRUCache<string, Entry>
  /** login+address pairs with a recent successful check: the per-login lock does not apply to them. */
  readonly #known: LRUCache<string, true>
  readonly #pendingByAddress = new Map<string, number>()
  readonly #pendingByLogin = new Map<string, number>()
  readonly #now: () => number
  #settings: LockoutSettings

  constructor (options: LockoutOptions = {}) {
    this.#settings = {
      maxFailures: options.maxFailures ?? LOCKOUT_DEFAULTS.maxFailures,
      windowSeconds: options.windowSeconds ?? LOCKOUT_DEFAULTS.windowSeconds,
      lockSeconds: options.lockSeconds ?? LOCKOUT_DEFAULTS.lockSeconds,
      loginMaxFailures: options.loginMaxFailures ?? LOCKOUT_DEFAULTS.loginMaxFailures,
    }
    this.#now = options.now ?? Date.now
    const max = options.maxEntries ?? LOCKOUT_DEFAULTS.maxEntries
    this.#addresses = new LRUCache({ max })
    this.#logins = new LRUCache({ max })
    this.#known = new LRUCache({
      max,
      ttl: (options.knownAddressSeconds ?? LOCKOUT_DEFAULTS.knownAddressSeconds) * 1000,
      // Read the (injectable) clock on every check.
      ttlResolution: 0,
      perf: { now: this.#now },
    })
  }

  /** New limits (a reload); failures, locks and known addresses are kept. */
  configure (settings: LockoutSettings): void {
    this.#settings = settings
  }

  /** Whether `login` is locked from `address` now, by its own failures there or (unless the address is known for it) by the login's. */
  isLocked (login: string, address: string): { readonly locked: boolean, readonly retryAfterSeconds?: number } {
    const now = this.#now()
    const pair = key(login, address)
    const own = this.#addresses.get(pair)?.lockedUntil ?? 0
    const shared = this.#known.has(pair) ? 0 : this.#logins.get(login)?.lockedUntil ?? 0
    const lockedUntil = Math.max(own, shared)
    return lockedUntil > now ? { locked: true, retryAfterSeconds: Math.ceil((lockedUntil - now) / 1000) } : { locked: false }
  }

  /**
   * Takes a place for one check of `login` from `address`, or undefined
   * when it is locked or when the failures recorded plus the checks in
   * progress already reach a limit. Synchronous: take it before the first
   * await.
   */
  reserve (login: string, address: string): Reservation | undefined {
    if (this.isLocked(login, address).locked) return undefined
    const pair = key(login, address)
    const { maxFailures, loginMaxFailures } = this.#settings
    if (this.#recent(this.#addresses.get(pair)) + (this.#pendingByAddress.get(pair) ?? 0) >= maxFailures) return undefined
    if (!this.#known.has(pair) && this.#recent(this.#logins.get(login)) + (this.#pendingByLogin.get(login) ?? 0) >= loginMaxFailures) return undefined
    adjust(this.#pendingByAddress, pair, 1)
    adjust(this.#pendingByLogin, login, 1)
    const release = (): void => {
      adjust(this.#pendingByAddress, pair, -1)
      adjust(this.#pendingByLogin, login, -1)
    }
    return {
      failed: () => {
        release()
        return this.recordFailure(login, address)
      },
      succeeded: () => {
        release()
        this.recordSuccess(login, address)
      },
      released: release,
    }
  }

  /** A failure of `login` from `address`, at `at` (another replica's, told through the shared store) or now. */
  recordFailure (login: string, address: string, at?: number): FailureRecord {
    const pair = key(login, address)
    const own = this.#count(this.#addresses, pair, this.#settings.maxFailures, at)
    const shared = this.#count(this.#logins, login, this.#settings.loginMaxFailures, at)
    const now = this.#now()
    return { locked: this.isLocked(login, address).locked, failures: own.failures.length, loginLocked: shared.lockedUntil > now }
  }

  /** The login+address's failures are cleared and the address is known for the login; the login's own count is kept (a success does not reset a distributed attack). */
  recordSuccess (login: string, address: string): void {
    const pair = key(login, address)
    this.#addresses.delete(pair)
    this.#known.set(pair, true)
  }

  #count (entries: LRUCache<string, Entry>, id: string, limit: number, at?: number): Entry {
    const now = this.#now()
    const since = now - this.#settings.windowSeconds * 1000
    const when = Math.min(at ?? now, now)
    const entry = entries.get(id) ?? { failures: [], lockedUntil: 0 }
    // A failure older than the window (read back by a replica starting) counts for nothing.
    if (when <= since) return entry
    entry.failures = [...entry.failures.filter(t => t > since), when]
    if (entry.failures.length >= limit) {
      entry.lockedUntil = Math.max(entry.lockedUntil, when + this.#settings.lockSeconds * 1000)
      entry.failures = []
    }
    entries.set(id, entry)
    return entry
  }

  /** Failures of `entry` still within the window. */
  #recent (entry: Entry | undefined): number {
    if (entry === undefined) return 0
    const since = this.#now() - this.#settings.windowSeconds * 1000
    return entry.failures.filter(at => at > since).length
  }
}

function adjust (counts: Map<string, number>, id: string, change: 1 | -1): void {
  const next = (counts.get(id) ?? 0) + change
  if (next === 0) counts.delete(id)
  else counts.set(id, next)
}

function key (login: string, address: string): string {
  return `${login}\0${address}`
}
