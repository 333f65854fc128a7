/** What the proxy needs from the IMS token provider (src/ims), kept narrow so tests can see the contract. */
export interface BearerToken {
  readonly value: string
  readonly account: string
  readonly fingerprint: string
}

export interface TokenSource {
  get (account: string): Promise<BearerToken>
}
