/**
 * The proxy's own calls to Campaign, and the one place its connection
 * pool is configured: TLS always verified (with `campaign.caFile` when
 * set), explicit connect, headers and body timeouts. Used by the request
 * path (forwarding, the Logon's session info), by `check` and by
 * `audit-rights` (docs/audit-rights.md: its queries and writes).
 */
import { readFileSync } from 'node:fs'
import { Pool, type Dispatcher } from 'undici'
import type { CampaignConfig } from '../config/types.js'

/** Keep-alive of idle upstream connections; Campaign's load balancers close idle ones after about a minute. */
export const UPSTREAM_KEEP_ALIVE_MS = 30_000

/** The GetUserInfo call of a technical account (its session token stays empty: the bearer says who it is). */
export const GET_USER_INFO = '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
  '<SOAP-ENV:Body><m:GetUserInfo xmlns:m="urn:xtk:session"><sessiontoken xsi:type="xsd:string"/></m:GetUserInfo></SOAP-ENV:Body></SOAP-ENV:Envelope>'

/** A DOM parameter, as acc-js-sdk and Campaign's own clients send one. */
const DOM_PARAMETER = 'xsi:type="ns:Element" SOAP-ENV:encodingStyle="http://xml.apache.org/xml-soap/literalxml"'

/** A technical account's call of `urn#method` with one DOM parameter `name` holding `xml` (already escaped); its session token stays empty. */
function domCall (urn: string, method: string, name: string, xml: string): string {
  return '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
    `xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:ns="urn:${urn}"><SOAP-ENV:Body><m:${method} xmlns:m="urn:${urn}"><sessiontoken xsi:type="xsd:string"/>` +
    `<${name} ${DOM_PARAMETER}>${xml}</${name}></m:${method}></SOAP-ENV:Body></SOAP-ENV:Envelope>`
}

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

/**
 * Campaign's build and instance (`GET /r/test`), the operator a technical
 * account acts as (`xtk:session#GetUserInfo`), and the queries and writes
 * of `audit-rights` (`xtk:queryDef#ExecuteQuery`, `xtk:session#Write`).
 */
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
    return await this.#soap(bearer, 'xtk:session#GetUserInfo', GET_USER_INFO)
  }

  /** `xtk:queryDef#ExecuteQuery` of a `<queryDef>` document (XML the caller built and escaped). */
  async executeQuery (bearer: string, queryDef: string): Promise<CampaignAnswer> {
    return await this.#soap(bearer, 'xtk:queryDef#ExecuteQuery', domCall('xtk:queryDef', 'ExecuteQuery', 'entity', queryDef))
  }

  /** `xtk:session#Write` of an entity document (XML the caller built and escaped). */
  async write (bearer: string, doc: string): Promise<CampaignAnswer> {
    return await this.#soap(bearer, 'xtk:session#Write', domCall('xtk:session', 'Write', 'domDoc', doc))
  }

  async #soap (bearer: string, action: string, body: string): Promise<CampaignAnswer> {
    const answer = await this.#upstream.request({
      path: '/nl/jsp/soaprouter.jsp',
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: action, authorization: `Bearer ${bearer}` },
      body,
      ...this.#timeouts,
    })
    return { status: answer.statusCode, text: await answer.body.text() }
  }
}
