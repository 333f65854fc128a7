/**
 * The `<serverInfo>` and `<userInfo>` of the LogonResponse the proxy
 * answers (docs/legacy-sessions.md): taken from Campaign with the
 * technical account's token (`GET /r/test` + `xtk:session#GetUserInfo`),
 * cached a few minutes per account; a clearly marked synthetic fallback,
 * logged, when Campaign cannot be reached.
 */
import { LRUCache } from 'lru-cache'
import type { CampaignClient } from '../campaign/client.js'
import { upstreamErrorFields } from '../observability/bounded.js'
import { sessionInfoFromCampaign, syntheticSessionInfo, type SessionInfoParts } from '../soap/logon-response.js'
import type { TokenSource } from './token-source.js'

export const SESSION_INFO_CACHE_SECONDS = 300
/** A Logon waits at most this long per Campaign call for session info, whatever campaign.timeoutSeconds says, before falling back. */
export const SESSION_INFO_TIMEOUT_MS = 5000

export interface SessionInfoOptions {
  /** A client whose calls are bounded (SESSION_INFO_TIMEOUT_MS by default). */
  readonly campaign: CampaignClient
  readonly tokens: TokenSource
  readonly sessionTimeoutSeconds: number
  readonly instanceName: string
  readonly logger: { warn (obj: object, msg: string): void }
  readonly now: () => number
}

export class SessionInfoSource {
  readonly #cache: LRUCache<string, SessionInfoParts>
  readonly #options: SessionInfoOptions

  constructor (options: SessionInfoOptions) {
    this.#options = options
    this.#cache = new LRUCache<string, SessionInfoParts>({
      max: 100,
      ttl: SESSION_INFO_CACHE_SECONDS * 1000,
      fetchMethod: async (account) => await this.#fetch(account),
      ttlResolution: 0,
      perf: { now: options.now },
    })
  }

  /** Campaign's session info for `account`, or the synthetic one for `login` when Campaign cannot give it. */
  async get (account: string, login: string): Promise<SessionInfoParts> {
    try {
      return await this.#cache.forceFetch(account)
    } catch (err) {
      // Not the error object: a parser's or undici's error can hold text of Campaign's answer (docs/security.md).
      this.#options.logger.warn({ error: upstreamErrorFields(err), account }, 'Campaign session info unavailable: answering Logon with synthetic serverInfo/userInfo')
      return syntheticSessionInfo({ login, instanceName: this.#options.instanceName, sessionTimeoutSeconds: this.#options.sessionTimeoutSeconds, now: this.#options.now() })
    }
  }

  async #fetch (account: string): Promise<SessionInfoParts> {
    const { campaign, tokens } = this.#options
    const token = await tokens.get(account)
    const redir = await campaign.redir()
    if (redir.status !== 200) throw new Error(`GET /r/test answered ${redir.status}`)
    const info = await campaign.getUserInfo(token.value)
    return sessionInfoFromCampaign(redir.text, info.text, this.#options.sessionTimeoutSeconds)
  }
}
