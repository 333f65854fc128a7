/**
 * Verifying a presented login/password against an `ims` integration's
 * scrypt hash (docs/legacy-sessions.md#lockout), in this order:
 *
 * 1. a login locked from the caller's address is answered 'locked' before
 *    the verification cache is looked at, so a locked caller cannot go on
 *    testing passwords against it;
 * 2. a verified pair is remembered a few minutes (by an HMAC, never the
 *    password), so Message Center rates do not pay scrypt per call;
 *    concurrent first calls with the same pair share one scrypt run;
 * 3. otherwise the check takes a place in the lockout (checks in progress
 *    count as failures until they end) and in the gate that bounds
 *    concurrent scrypt runs: no place in the lockout is 'locked', none in
 *    the gate's queues is 'busy'.
 *
 * A 'locked' answer is delayed by the usual duration of a scrypt run with
 * the same parameters (a running average, waited with a timer: no scrypt
 * is run for it), so its timing does not tell it from a wrong password.
 */
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { LRUCache } from 'lru-cache'
import { CHECK_GATE_DEFAULTS, CheckGate, type CheckGateLimits, type CheckGateState } from './check-gate.js'
import { VerifiedCredentialCache } from './inline-credentials.js'
import { LOCKOUT_DEFAULTS, LoginLockout, type FailureRecord, type LockoutSettings } from './lockout.js'
import { verifyPassword } from './passwords.js'
import type { PresentedPassword } from './identity.js'

/** Before a scrypt run with some parameters was measured: about what the default ones (N=32768, r=8) take on one server core. */
export const INITIAL_SCRYPT_MS = 75
/** A locked answer waits at most this long, whatever was measured. */
export const MAX_LOCKED_DELAY_MS = 2000
/** Weight of the newest scrypt duration in the running average. */
const AVERAGE_WEIGHT = 0.2

const LOCKED: FailureRecord = { failures: 0, locked: true, loginLocked: false }
const CLEAR: FailureRecord = { failures: 0, locked: false, loginLocked: false }

export type PasswordOutcome = 'success' | 'failure' | 'locked' | 'busy'

export interface PasswordCheckSettings {
  readonly lockout: LockoutSettings
  readonly gate: CheckGateLimits
}

export const PASSWORD_CHECK_DEFAULTS: PasswordCheckSettings = {
  lockout: { maxFailures: LOCKOUT_DEFAULTS.maxFailures, windowSeconds: LOCKOUT_DEFAULTS.windowSeconds, lockSeconds: LOCKOUT_DEFAULTS.lockSeconds, loginMaxFailures: LOCKOUT_DEFAULTS.loginMaxFailures },
  gate: CHECK_GATE_DEFAULTS,
}

export interface PasswordCheckOptions {
  readonly now: () => number
  readonly settings?: PasswordCheckSettings
  /** Monotonic clock in ms for scrypt durations (default performance.now). */
  readonly clock?: () => number
  /** Waits `ms` before a locked answer (default a timer). */
  readonly delay?: (ms: number) => Promise<void>
  /** The scrypt verification (default `verifyPassword`). */
  readonly verify?: (password: string, hash: string) => Promise<boolean>
  /** Called once per check that was not answered from the verification cache. */
  readonly onOutcome: (outcome: PasswordOutcome, presented: PresentedPassword, caller: string, lockout: FailureRecord) => void
  /** Called when the number of scrypt runs in progress or waiting changes. */
  readonly onGateChange?: (state: CheckGateState) => void
}

interface Outcome {
  failed (): FailureRecord
  succeeded (): void
}

export class PasswordChecker {
  readonly #lockout: LoginLockout
  readonly #gate: CheckGate
  readonly #verified: VerifiedCredentialCache
  readonly #inFlight = new Map<string, Promise<boolean>>()
  /** Running average of scrypt durations (ms) by hash parameters (`scrypt$N=…,r=…,p=…`). */
  readonly #durations = new LRUCache<string, number>({ max: 64 })
  readonly #onOutcome: PasswordCheckOptions['onOutcome']
  readonly #clock: () => number
  readonly #delay: (ms: number) => Promise<void>
  readonly #verify: (password: string, hash: string) => Promise<boolean>

  constructor (options: PasswordCheckOptions) {
    const settings = options.settings ?? PASSWORD_CHECK_DEFAULTS
    this.#lockout = new LoginLockout({ ...settings.lockout, now: options.now })
    this.#gate = new CheckGate(settings.gate, options.onGateChange)
    this.#verified = new VerifiedCredentialCache({ key: randomBytes(32), now: options.now })
    this.#onOutcome = options.onOutcome
    this.#clock = options.clock ?? (() => performance.now())
    this.#delay = options.delay ?? (async ms => { await sleep(ms) })
    this.#verify = options.verify ?? verifyPassword
  }

  /** New limits (a reload); failures, locks, known addresses and the cache are kept. */
  configure (settings: PasswordCheckSettings): void {
    this.#lockout.configure(settings.lockout)
    this.#gate.configure(settings.gate)
  }

  /** Whether `presented` is right; 'locked' whatever the password while locked, 'busy' when too many checks wait. */
  async check (presented: PresentedPassword, caller: string): Promise<PasswordOutcome> {
    const { integration, login, password } = presented
    const hash = integration.passwordHash as string
    if (this.#lockout.isLocked(login, caller).locked) {
      // Refused as busy whenever an unlocked login would be, so a busy answer does not tell that a login is not locked.
      return this.#gate.admits(login) ? await this.#locked(presented, caller, hash) : this.#busy(presented, caller)
    }
    const key = this.#verified.cacheKey(login, password, hash)
    if (this.#verified.hasKey(key)) return 'success'
    const shared = this.#inFlight.get(key)
    if (shared !== undefined) {
      // The same pair is being verified: its result, recorded for this caller too.
      return this.#conclude(await shared, presented, caller, key, {
        failed: () => this.#lockout.recordFailure(login, caller),
        succeeded: () => { this.#lockout.recordSuccess(login, caller) },
      })
    }
    if (!this.#gate.admits(login)) return this.#busy(presented, caller)
    const reservation = this.#lockout.reserve(login, caller)
    if (reservation === undefined) return await this.#locked(presented, caller, hash)
    let isRight: boolean
    try {
      isRight = await this.#evaluate(login, password, hash, key)
    } catch (err) {
      reservation.released()
      throw err
    }
    return this.#conclude(isRight, presented, caller, key, reservation)
  }

  /** Another replica's failed check of `login` from `address` (the shared store): counted by the lockout here too. */
  recordFailureElsewhere (login: string, address: string, at: number): void {
    this.#lockout.recordFailure(login, address, at)
  }

  /** Another replica's successful check: the address is known for the login here too. */
  recordSuccessElsewhere (login: string, address: string): void {
    this.#lockout.recordSuccess(login, address)
  }

  /** How long a locked answer waits: the running average of scrypt runs with `hash`'s parameters. */
  lockedDelayMs (hash: string): number {
    return Math.min(MAX_LOCKED_DELAY_MS, this.#durations.get(parametersOf(hash)) ?? INITIAL_SCRYPT_MS)
  }

  #conclude (isRight: boolean, presented: PresentedPassword, caller: string, key: string, outcome: Outcome): PasswordOutcome {
    if (!isRight) {
      this.#onOutcome('failure', presented, caller, outcome.failed())
      return 'failure'
    }
    outcome.succeeded()
    this.#verified.rememberKey(key)
    this.#onOutcome('success', presented, caller, CLEAR)
    return 'success'
  }

  #busy (presented: PresentedPassword, caller: string): 'busy' {
    this.#onOutcome('busy', presented, caller, CLEAR)
    return 'busy'
  }

  async #locked (presented: PresentedPassword, caller: string, hash: string): Promise<'locked'> {
    this.#onOutcome('locked', presented, caller, LOCKED)
    await this.#delay(this.lockedDelayMs(hash))
    return 'locked'
  }

  /** One scrypt run in the gate, shared by the concurrent checks of the same pair. */
  #evaluate (login: string, password: string, hash: string, key: string): Promise<boolean> {
    const pending = this.#gate.run(login, async () => {
      const startedAt = this.#clock()
      const isRight = await this.#verify(password, hash)
      this.#observe(parametersOf(hash), this.#clock() - startedAt)
      return isRight
    }).finally(() => { this.#inFlight.delete(key) })
    this.#inFlight.set(key, pending)
    return pending
  }

  #observe (parameters: string, ms: number): void {
    const average = this.#durations.get(parameters)
    this.#durations.set(parameters, average === undefined ? ms : average + AVERAGE_WEIGHT * (ms - average))
  }
}

/** `scrypt$N=…,r=…,p=…` of a hash: runs with the same parameters take the same time. */
function parametersOf (hash: string): string {
  return hash.slice(0, hash.indexOf('$', hash.indexOf('$') + 1))
}
