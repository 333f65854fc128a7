/** What the proxy needs from the IMS token provider (src/ims), kept narrow so tests can see the contract. */
export interface BearerToken {
  readonly value: string
  readonly account: string
  readonly fingerprint: string
  /** When the token was received (ms epoch). */
  readonly obtainedAt: number
}

export interface TokenSource {
  get (account: string): Promise<BearerToken>
  /** Compare-and-invalidate: drops `token` only if it is still the account's current one (then fetches a new one). */
  invalidate (account: string, token: BearerToken): boolean
}
