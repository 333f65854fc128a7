/**
 * The `<serverInfo>` and `<userInfo>` of the LogonResponse the proxy
 * answers (SPEC section 4): taken from Campaign with the technical
 * account's token (`GET /r/test` + `xtk:session#GetUserInfo`), cached a few
 * minutes per account; a clearly marked synthetic fallback, logged, when
 * Campaign cannot be reached.
 */
import { LRUCache } from 'lru-cache'
import type { Pool } from 'undici'
import { sessionInfoFromCampaign, syntheticSessionInfo, type SessionInfoParts } from '../soap/logon-response.js'
import type { TokenSource } from './token-source.js'

export const SESSION_INFO_CACHE_SECONDS = 300
/** A Logon waits at most this long per Campaign call for session info, whatever campaign.timeoutSeconds says, before falling back. */
export const SESSION_INFO_TIMEOUT_MS = 5000
const BOUNDED = { headersTimeout: SESSION_INFO_TIMEOUT_MS, bodyTimeout: SESSION_INFO_TIMEOUT_MS } as const
const GET_USER_INFO = '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
  '<SOAP-ENV:Body><m:GetUserInfo xmlns:m="urn:xtk:session"><sessiontoken xsi:type="xsd:string"/></m:GetUserInfo></SOAP-ENV:Body></SOAP-ENV:Envelope>'

export interface SessionInfoOptions {
  readonly upstream: Pool
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
      this.#options.logger.warn({ err, account }, 'Campaign session info unavailable: answering Logon with synthetic serverInfo/userInfo')
      return syntheticSessionInfo({ login, instanceName: this.#options.instanceName, sessionTimeoutSeconds: this.#options.sessionTimeoutSeconds, now: this.#options.now() })
    }
  }

  async #fetch (account: string): Promise<SessionInfoParts> {
    const { upstream, tokens } = this.#options
    const token = await tokens.get(account)
    const redir = await upstream.request({ path: '/r/test', method: 'GET', ...BOUNDED })
    const redirText = await redir.body.text()
    if (redir.statusCode !== 200) throw new Error(`GET /r/test answered ${redir.statusCode}`)
    const info = await upstream.request({
      path: '/nl/jsp/soaprouter.jsp',
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: 'xtk:session#GetUserInfo', authorization: `Bearer ${token.value}` },
      body: GET_USER_INFO,
      ...BOUNDED,
    })
    const infoText = await info.body.text()
    return sessionInfoFromCampaign(redirText, infoText, this.#options.sessionTimeoutSeconds)
  }
}
