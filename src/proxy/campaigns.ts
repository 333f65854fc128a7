/**
 * The Campaign instances a request can be for (docs/architecture.md#request-flow,
 * step 2; docs/configuration.md#several-campaign-instances): each with its
 * two connection pools, its Host header and its Logon session info. Which
 * one a request is for is fixed by configuration alone: the listener it
 * arrived on, else (on the main listener) its Host among the instances'
 * `hosts`, else `defaultCampaign`. Built once at start (campaigns are
 * restart-only, server.ts RESTART_ONLY_KEYS).
 */
import type { IncomingMessage } from 'node:http'
import type { Pool } from 'undici'
import type { CampaignInstanceConfig } from '../config/types.js'
import type { SessionInfoSource } from './session-info.js'

/** Set on each request by an instance's own listener (app.ts `instanceListener`): the instance's name. */
export const LISTENER_CAMPAIGN = Symbol('campaign-ims-proxy.listener-campaign')

export type ListenerTagged = IncomingMessage & { [LISTENER_CAMPAIGN]?: string }

/** What the flow needs of one instance. */
export interface CampaignUpstream {
  readonly name: string
  /** Campaign's host and port: the Host header sent upstream, and the host a WSDL's endpoint replaces. */
  readonly host: string
  /** Calls with the proxy's token. */
  readonly upstream: Pool
  /** Calls forwarded without it (limits.unidentifiedConnections): they cannot take the integrations' connections. */
  readonly passthroughUpstream: Pool
  /** The `<serverInfo>`/`<userInfo>` of a Logon answered for this instance. */
  readonly sessionInfo: SessionInfoSource
}

export class CampaignRoutes {
  readonly #byName: ReadonlyMap<string, CampaignUpstream>
  readonly #byHost: ReadonlyMap<string, CampaignUpstream>
  readonly #fallback: CampaignUpstream | undefined

  constructor (instances: ReadonlyMap<string, CampaignInstanceConfig>, defaultCampaign: string | undefined, build: (instance: CampaignInstanceConfig) => CampaignUpstream) {
    const byName = new Map<string, CampaignUpstream>()
    const byHost = new Map<string, CampaignUpstream>()
    for (const instance of instances.values()) {
      const upstream = build(instance)
      byName.set(instance.name, upstream)
      for (const host of instance.hosts) byHost.set(host, upstream)
    }
    this.#byName = byName
    this.#byHost = byHost
    this.#fallback = defaultCampaign === undefined ? undefined : byName.get(defaultCampaign)
  }

  /** The instance `request` is for; undefined when nothing selects one and there is no default (answered 421). */
  select (request: IncomingMessage): CampaignUpstream | undefined {
    const listener = (request as ListenerTagged)[LISTENER_CAMPAIGN]
    if (listener !== undefined) return this.#byName.get(listener)
    // With no hosts configured (a single instance), the Host is not even read.
    if (this.#byHost.size === 0) return this.#fallback
    const host = request.headers.host
    return (host === undefined ? undefined : this.#byHost.get(hostName(host))) ?? this.#fallback
  }

  async close (): Promise<void> {
    await Promise.all([...this.#byName.values()].flatMap(({ upstream, passthroughUpstream }) => [upstream.close(), passthroughUpstream.close()]))
  }
}

/** A Host header's name: without its port, in lower case (an IPv6 literal matches no configured host name, which holds no ':' or '['). */
function hostName (host: string): string {
  const colon = host.indexOf(':')
  return (colon === -1 ? host : host.slice(0, colon)).toLowerCase()
}
