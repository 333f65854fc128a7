/**
 * What the proxy knows of one request, from its arrival to its access
 * line: set by the request flow, read by accounting.
 */
import type { AuthPath } from '../auth/identity.js'
import type { LeastPrivilegeRefusal } from '../config/allow-list.js'
import type { IntegrationConfig } from '../config/types.js'
import type { ProxyFaultName } from '../soap/faults.js'
import type { BearerToken } from './token-source.js'

export interface ProxyContext {
  /** The socket peer (the client, or a trusted proxy in front of it). */
  readonly peer: string
  /** The client's address, through trusted proxies. */
  readonly caller: string
  readonly isPeerTrusted: boolean
  readonly startedAt: number
  /** The Campaign instance the request is for (campaigns.ts `select`); undefined when none was selected (a refused path, 421). */
  campaign: string | undefined
  integration: IntegrationConfig | undefined
  /** Login seen in a Logon or an inline login/password that no `ims` integration has. */
  login: string | undefined
  token: BearerToken | undefined
  soapMethod: string | undefined
  authPath: AuthPath
  /** Set when the integration's allowedMethods / allowedPaths refused the call. */
  refused: LeastPrivilegeRefusal | undefined
  /** Proxy fault answered instead of forwarding or instead of Campaign's answer. */
  fault: ProxyFaultName | undefined
  /** Campaign's status (last attempt), undefined when not forwarded or unanswered. */
  upstreamStatus: number | undefined
  /** Time spent waiting for Campaign, over every attempt; undefined when not forwarded. */
  upstreamMs: number | undefined
  replays: number
  /** Metrics, inventory and access log done. */
  accounted: boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    proxy: ProxyContext | null
  }
}

export function newContext (peer: string, caller: string, isPeerTrusted: boolean, startedAt: number): ProxyContext {
  return {
    peer,
    caller,
    isPeerTrusted,
    startedAt,
    campaign: undefined,
    integration: undefined,
    login: undefined,
    token: undefined,
    soapMethod: undefined,
    authPath: 'anonymous',
    refused: undefined,
    fault: undefined,
    upstreamStatus: undefined,
    upstreamMs: undefined,
    replays: 0,
    accounted: false,
  }
}
