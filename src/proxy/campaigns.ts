/**
 * The Campaign instances a request can be for (docs/architecture.md#request-flow,
 * step 2; docs/configuration.md#several-campaign-instances): each with its
 * two connection pools, its Host header and its Logon session info. Which
 * one a request is for is fixed by configuration alone: the listener it
 * arrived on, else (on the main listener) its Host among the instances'
 * `hosts`, else `defaultCampaign`. A reload builds a new set
 * (`rebuilt`): an instance whose upstream settings did not change keeps
 * its pools and session info; the pools of a changed or removed one are
 * closed once the requests that selected them can have finished.
 */
import type { IncomingMessage } from 'node:http'
import { isDeepStrictEqual } from 'node:util'
import type { Pool } from 'undici'
import type { CampaignInstanceConfig } from '../config/types.js'
import type { SessionInfoSource } from './session-info.js'

/** Set on each request by an instance's own listener (app.ts `instanceListener`): the instance's name. */
export const LISTENER_CAMPAIGN = Symbol('campaign-ims-proxy.listener-campaign')

export type ListenerTagged = IncomingMessage & { [LISTENER_CAMPAIGN]?: string }

/** What the flow needs of one instance. */
export interface CampaignUpstream {
  readonly name: string
  /** What the pools were built from: `url`, timeouts, connections, CA (not `hosts` or `listen`, which only select). */
  readonly settings: UpstreamSettings
  /** Campaign's host and port: the Host header sent upstream, and the host a WSDL's endpoint replaces. */
  readonly host: string
  /** Calls with the proxy's token. */
  readonly upstream: Pool
  /** Calls forwarded without it (limits.unidentifiedConnections): they cannot take the integrations' connections. */
  readonly passthroughUpstream: Pool
  /** The `<serverInfo>`/`<userInfo>` of a Logon answered for this instance. */
  readonly sessionInfo: SessionInfoSource
}

/** An instance's settings that its pools and session info depend on. */
export type UpstreamSettings = Omit<CampaignInstanceConfig, 'hosts' | 'listen'> & { readonly unidentifiedConnections: number }

export function upstreamSettings (instance: CampaignInstanceConfig, unidentifiedConnections: number): UpstreamSettings {
  const { hosts: _hosts, listen: _listen, ...settings } = instance
  return { ...settings, unidentifiedConnections }
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

  /**
   * The routes of a reloaded configuration. An instance built from the same
   * settings is the same object (its pools, its cached session info);
   * `retire` receives those no longer used, still in use by requests that
   * selected them before the reload.
   */
  rebuilt (instances: ReadonlyMap<string, CampaignInstanceConfig>, defaultCampaign: string | undefined, build: (instance: CampaignInstanceConfig) => CampaignUpstream, settingsOf: (instance: CampaignInstanceConfig) => UpstreamSettings, retire: (unused: CampaignUpstream) => void): CampaignRoutes {
    const next = new CampaignRoutes(instances, defaultCampaign, instance => {
      const running = this.#byName.get(instance.name)
      return running !== undefined && isDeepStrictEqual(running.settings, settingsOf(instance)) ? running : build(instance)
    })
    for (const upstream of this.#byName.values()) {
      if (next.#byName.get(upstream.name) !== upstream) retire(upstream)
    }
    return next
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
