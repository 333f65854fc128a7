/**
 * The token provider the running proxy uses, replaceable by a configuration
 * reload: when the IMS settings or the technical accounts change, a new
 * provider starts (one token request per account) and the old one is
 * closed. Requests that already hold a token keep it.
 */
import type { AccessToken, AccountStatus, TokenProvider } from './token-provider.js'

export class SwitchableTokens {
  #current: TokenProvider

  constructor (provider: TokenProvider) {
    this.#current = provider
  }

  get current (): TokenProvider {
    return this.#current
  }

  /** Starts `next`, makes it current, closes the previous provider. */
  switchTo (next: TokenProvider): void {
    const previous = this.#current
    next.start()
    this.#current = next
    previous.close()
  }

  async get (account: string): Promise<AccessToken> {
    return await this.#current.get(account)
  }

  invalidate (account: string, token: Pick<AccessToken, 'value' | 'fingerprint'>): boolean {
    return this.#current.invalidate(account, token)
  }

  isReady (): boolean {
    return this.#current.isReady()
  }

  status (): readonly AccountStatus[] {
    return this.#current.status()
  }

  close (): void {
    this.#current.close()
  }
}
