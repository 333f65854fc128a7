/**
 * The proxy's own calls to Campaign, and the one place its connection
 * pool is configured: TLS always verified (with `campaign.caFile` when
 * set), explicit connect, headers and body timeouts. Used by the request
 * path (forwarding, the Logon's session info) and by `check`.
 */
import { readFileSync } from 'node:fs'
import { Pool, type Dispatcher } from 'undici'
import type { CampaignConfig } from '../config/types.js'

/** Keep-alive of idle upstream connections; Campaign's load balancers close idle ones after about a minute. */
export const UPSTREAM_KEEP_ALIVE_MS = 30_000

/** The GetUserInfo call of a technical account (its session token stays empty: the bearer says who it is). */
export const GET_USER_INFO = '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
  '<SOAP-ENV:Body><m:GetUserInfo xmlns:m="urn:xtk:session"><sessiontoken xsi:type="xsd:string"/></m:GetUserInfo></SOAP-ENV:Body></SOAP-ENV:Envelope>'

/** A pool of connections to the configured Campaign (the only upstream there is). */
export function campaignPool (campaign: CampaignConfig, connections = campaign.maxConnections): Pool {
  return new Pool(campaign.url, {
    connections,
    keepAliveTimeout: UPSTREAM_KEEP_ALIVE_MS,
    headersTimeout: campaign.timeoutSeconds * 1000,
    bodyTimeout: campaign.timeoutSeconds * 1000,
    connect: {
      timeout: campaign.connectTimeoutSeconds * 1000,
      rejectUnauthorized: true,
      ...(campaign.caFile === undefined ? {} : { ca: readFileSync(campaign.caFile) }),
    },
  })
}

export interface CampaignAnswer {
  readonly status: number
  readonly text: string
}

export interface CampaignClientOptions {
  /** Per-call limit on headers and body, below the pool's own (e.g. a Logon must not wait for long). */
  readonly timeoutMs?: number
}

/** Campaign's build and instance (`GET /r/test`) and the operator a technical account acts as (`xtk:session#GetUserInfo`). */
export class CampaignClient {
  readonly #upstream: Dispatcher
  readonly #timeouts: { headersTimeout?: number, bodyTimeout?: number }

  constructor (upstream: Dispatcher, options: CampaignClientOptions = {}) {
    this.#upstream = upstream
    this.#timeouts = options.timeoutMs === undefined ? {} : { headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs }
  }

  async redir (): Promise<CampaignAnswer> {
    const answer = await this.#upstream.request({ path: '/r/test', method: 'GET', ...this.#timeouts })
    return { status: answer.statusCode, text: await answer.body.text() }
  }

  async getUserInfo (bearer: string): Promise<CampaignAnswer> {
    const answer = await this.#upstream.request({
      path: '/nl/jsp/soaprouter.jsp',
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: 'xtk:session#GetUserInfo', authorization: `Bearer ${bearer}` },
      body: GET_USER_INFO,
      ...this.#timeouts,
    })
    return { status: answer.statusCode, text: await answer.body.text() }
  }
}
