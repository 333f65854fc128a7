/**
 * Verifying a presented login/password against an `ims` integration's
 * scrypt hash, with Campaign's lockout per login and caller address
 * (docs/legacy-sessions.md). A verified pair is remembered a few minutes
 * (by an HMAC, never the password) so Message Center rates do not pay
 * scrypt per call, and concurrent first calls with the same pair share one
 * scrypt run.
 */
import { randomBytes } from 'node:crypto'
import { VerifiedCredentialCache } from './inline-credentials.js'
import { LoginLockout } from './lockout.js'
import { verifyPassword } from './passwords.js'
import type { PresentedPassword } from './identity.js'

const LOCKED = { failures: 0, locked: true } as const
const CLEAR = { failures: 0, locked: false } as const

export type PasswordOutcome = 'success' | 'failure' | 'locked'

export interface PasswordCheckOptions {
  readonly now: () => number
  /** Called once per check that was not answered from the verification cache. */
  readonly onOutcome: (outcome: PasswordOutcome, presented: PresentedPassword, caller: string, lockout: { readonly failures: number, readonly locked: boolean }) => void
}

export class PasswordChecker {
  readonly #lockout: LoginLockout
  readonly #verified: VerifiedCredentialCache
  readonly #inFlight = new Map<string, Promise<boolean>>()
  readonly #onOutcome: PasswordCheckOptions['onOutcome']

  constructor (options: PasswordCheckOptions) {
    this.#lockout = new LoginLockout({ now: options.now })
    this.#verified = new VerifiedCredentialCache({ key: randomBytes(32), now: options.now })
    this.#onOutcome = options.onOutcome
  }

  /** Whether `presented` is right; a locked login+address is 'locked' whatever the password. */
  async check (presented: PresentedPassword, caller: string): Promise<PasswordOutcome> {
    const { integration, login, password } = presented
    const hash = integration.passwordHash as string
    const key = this.#verified.cacheKey(login, password, hash)
    if (this.#verified.hasKey(key)) return 'success'
    if (this.#lockout.isLocked(login, caller).locked) {
      this.#onOutcome('locked', presented, caller, LOCKED)
      return 'locked'
    }
    if (!await this.#verifyOnce(password, hash, key)) {
      this.#onOutcome('failure', presented, caller, this.#lockout.recordFailure(login, caller))
      return 'failure'
    }
    this.#lockout.recordSuccess(login, caller)
    this.#verified.rememberKey(key)
    this.#onOutcome('success', presented, caller, CLEAR)
    return 'success'
  }

  async #verifyOnce (password: string, hash: string, key: string): Promise<boolean> {
    let pending = this.#inFlight.get(key)
    if (pending === undefined) {
      pending = verifyPassword(password, hash).finally(() => { this.#inFlight.delete(key) })
      this.#inFlight.set(key, pending)
    }
    return await pending
  }
}
