/**
 * When a token Campaign rejects may be invalidated (docs/architecture.md#token-rejection).
 * Any token, whatever its age: a token can be revoked a second after it
 * was issued (credential rotation, an administrator invalidating tokens).
 * Flood protection is a budget instead: a token fetched because of a
 * rejection that is itself rejected makes the account's next invalidation
 * wait, 1 s, then 2 s, 4 s ... up to 60 s, until one call with a token is
 * accepted. Meanwhile the rejected calls get Campaign's answer unchanged,
 * so a Campaign that rejects every token costs IMS about one token
 * request a minute.
 */
import type { BearerToken } from './token-source.js'

export const REJECTION_BACKOFF_INITIAL_MS = 1000
export const REJECTION_BACKOFF_MAX_MS = 60_000

interface AccountBudget {
  /** The token fetched because of a rejection (its value), until a call with a token is accepted. */
  fetchedOnRejection: string | undefined
  backoffMs: number
  /** No invalidation before this time. */
  heldUntil: number
  /** The rejection of `fetchedOnRejection` already started a wait: the next one, after it, invalidates. */
  hasWaited: boolean
}

export class RejectionBudget {
  readonly #accounts = new Map<string, AccountBudget>()
  readonly #now: () => number

  constructor (now: () => number) {
    this.#now = now
  }

  /** Campaign rejected `token`: may it be invalidated now? */
  mayInvalidate (token: BearerToken): boolean {
    const budget = this.#accounts.get(token.account)
    if (budget === undefined) return true
    const now = this.#now()
    if (now < budget.heldUntil) return false
    if (budget.fetchedOnRejection === token.value && !budget.hasWaited) {
      budget.backoffMs = budget.backoffMs === 0 ? REJECTION_BACKOFF_INITIAL_MS : Math.min(REJECTION_BACKOFF_MAX_MS, budget.backoffMs * 2)
      budget.heldUntil = now + budget.backoffMs
      budget.hasWaited = true
      return false
    }
    return true
  }

  /** `token` was fetched because the proxy invalidated a rejected one. */
  fetchedOnRejection (token: BearerToken): void {
    const budget = this.#accounts.get(token.account)
    if (budget === undefined) {
      this.#accounts.set(token.account, { fetchedOnRejection: token.value, backoffMs: 0, heldUntil: 0, hasWaited: false })
      return
    }
    budget.fetchedOnRejection = token.value
    budget.hasWaited = false
  }

  /** Campaign accepted a call made with a token of `account`: the budget starts again. */
  accepted (account: string): void {
    if (this.#accounts.size !== 0) this.#accounts.delete(account)
  }
}
