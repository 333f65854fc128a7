/**
 * The `campaign` (or `campaigns` and `defaultCampaign`) and `ims` sections:
 * the upstreams (docs/configuration.md, Campaign, Several Campaign
 * instances and IMS).
 */
import { BlockList, isIPv4 } from 'node:net'
import { type BuildContext, type Data, list, number, record, text } from './build-context.js'
import { FrozenMap } from './freeze.js'
import type { Path } from './problems.js'
import { CAMPAIGN_NAME_PATTERN, DEFAULTS, SINGLE_CAMPAIGN_NAME } from './schema.js'
import type { CampaignConfig, CampaignInstanceConfig, Config, ImsConfig, ListenConfig } from './types.js'

const LOOPBACK_V4 = new BlockList()
LOOPBACK_V4.addSubnet('127.0.0.0', 8, 'ipv4')

export type Campaigns = Pick<Config, 'campaign' | 'campaigns' | 'defaultCampaign'>

/**
 * The Campaign instances: `campaign:` alone is one instance named
 * `default` (and the default); `campaigns:` names several, each with an
 * optional listener of its own and host names that select it on the main
 * listener.
 */
export function buildCampaigns (data: Data, listeners: { readonly listen: ListenConfig, readonly admin: ListenConfig }, ctx: BuildContext): Campaigns {
  const campaigns = new Map<string, CampaignInstanceConfig>()
  if (data.campaigns === undefined) {
    if (data.campaign === undefined) ctx.report(['campaign'], 'is required')
    campaigns.set(SINGLE_CAMPAIGN_NAME, { name: SINGLE_CAMPAIGN_NAME, ...buildCampaign(data.campaign, ['campaign'], ctx), listen: undefined, hosts: [] })
  } else {
    if (data.campaign !== undefined) ctx.report(['campaigns'], 'cannot be used together with campaign: list every instance under campaigns (campaign: alone is one instance named "default")')
    const entries = Object.entries(record(data.campaigns))
    if (entries.length === 0) ctx.report(['campaigns'], 'must name at least one Campaign instance')
    const ports = new Map<number, string>([[listeners.listen.port, 'listen'], [listeners.admin.port, 'admin']])
    const hosts = new Map<string, string>()
    for (const [name, value] of entries) {
      const path = ['campaigns', name]
      if (!CAMPAIGN_NAME_PATTERN.test(name)) ctx.report(path, 'is not a valid Campaign instance name: it must start with a letter and hold at most 64 letters, digits, "_" and "-"')
      const instance = record(value)
      const listen = instanceListen(instance.listen, listeners.listen, ports, [...path, 'listen'], ctx)
      campaigns.set(name, { name, ...buildCampaign(value, path, ctx), listen, hosts: instanceHosts(instance.hosts, hosts, path, ctx) })
    }
  }
  const defaultCampaign = text(data.defaultCampaign) ?? (data.campaigns === undefined ? SINGLE_CAMPAIGN_NAME : undefined)
  if (defaultCampaign !== undefined && !campaigns.has(defaultCampaign)) {
    ctx.report(['defaultCampaign'], `names Campaign instance "${defaultCampaign}", which is not defined in ${data.campaigns === undefined ? 'campaign (its one instance is "default")' : 'campaigns'}`)
  }
  const first = campaigns.get(defaultCampaign ?? '') ?? campaigns.values().next().value
  return { campaign: settingsOf(first), campaigns: new FrozenMap(campaigns), defaultCampaign }
}

/** The per-upstream settings of an instance (no name, listener or hosts); the defaults when there is no instance at all. */
function settingsOf (instance: CampaignInstanceConfig | undefined): CampaignConfig {
  if (instance === undefined) return { url: '', ...DEFAULTS.campaign, caFile: undefined }
  const { url, timeoutSeconds, connectTimeoutSeconds, caFile, maxConnections } = instance
  return { url, timeoutSeconds, connectTimeoutSeconds, caFile, maxConnections }
}

/** An instance's own listener: the main listener's host unless given, on a port no other listener has (port 0: any free one). */
function instanceListen (data: unknown, main: ListenConfig, ports: Map<number, string>, path: Path, { report }: BuildContext): ListenConfig | undefined {
  if (data === undefined) return undefined
  const listen = record(data)
  const port = number(listen.port, 0)
  const owner = ports.get(port)
  if (port !== 0 && owner !== undefined) report([...path, 'port'], `port ${port} is already the port of ${owner}: each listener needs its own port`)
  if (port !== 0 && owner === undefined) ports.set(port, path.slice(0, -1).join('.'))
  return { host: text(listen.host) ?? main.host, port }
}

/** Host names that select an instance on the main listener: lower case, each naming one instance only. */
function instanceHosts (data: unknown, seen: Map<string, string>, path: Path, { report }: BuildContext): string[] {
  const name = String(path[1])
  return list(data).flatMap((item, j): string[] => {
    // A value of another type was reported by the schema; its text fails the check below, at the same path.
    const host = String(item).toLowerCase()
    if (!/^[a-z0-9._-]+$/.test(host)) {
      report([...path, 'hosts', j], 'must be a host name without port, such as rt.proxy.internal')
      return []
    }
    const owner = seen.get(host)
    if (owner !== undefined) report([...path, 'hosts', j], `"${host}" already selects campaigns.${owner}: a host selects one instance`)
    else seen.set(host, name)
    return [host]
  })
}

function buildCampaign (data: unknown, path: Path, ctx: BuildContext): CampaignConfig {
  const campaign = record(data)
  const url = text(campaign.url)
  return {
    url: url === undefined ? '' : checkUrl(url, [...path, 'url'], ctx, true),
    timeoutSeconds: number(campaign.timeoutSeconds, DEFAULTS.campaign.timeoutSeconds),
    connectTimeoutSeconds: number(campaign.connectTimeoutSeconds, DEFAULTS.campaign.connectTimeoutSeconds),
    caFile: ctx.file(campaign.caFile, [...path, 'caFile']),
    maxConnections: number(campaign.maxConnections, DEFAULTS.campaign.maxConnections),
  }
}

export function buildIms (data: unknown, ctx: BuildContext): ImsConfig {
  const ims = record(data)
  const backoff = record(ims.backoff)
  const initialSeconds = number(backoff.initialSeconds, DEFAULTS.ims.backoff.initialSeconds)
  const maxSeconds = number(backoff.maxSeconds, DEFAULTS.ims.backoff.maxSeconds)
  if (maxSeconds < initialSeconds) ctx.report(['ims', 'backoff', 'maxSeconds'], `must be at least ims.backoff.initialSeconds (${initialSeconds})`)
  return {
    tokenUrl: checkUrl(text(ims.tokenUrl) ?? DEFAULTS.ims.tokenUrl, ['ims', 'tokenUrl'], ctx, false),
    timeoutSeconds: number(ims.timeoutSeconds, DEFAULTS.ims.timeoutSeconds),
    refreshRatio: number(ims.refreshRatio, DEFAULTS.ims.refreshRatio),
    expirySkewSeconds: number(ims.expirySkewSeconds, DEFAULTS.ims.expirySkewSeconds),
    backoff: { initialSeconds, maxSeconds },
    caFile: ctx.file(ims.caFile, ['ims', 'caFile']),
  }
}

/**
 * An absolute http(s) URL without credentials or fragment, TLS unless the
 * host is loopback. `baseOnly`: nothing but scheme, host and port (the
 * proxy appends each request's own path), returned as the origin, which
 * drops a trailing slash.
 */
function checkUrl (value: string, path: Path, { report }: BuildContext, baseOnly: boolean): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    report(path, 'must be an absolute http(s) URL')
    return value
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    report(path, 'must be an absolute http(s) URL')
    return value
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    report(path, 'uses http: TLS is required (plain http is allowed only for loopback hosts: 127.0.0.0/8, ::1, localhost)')
  }
  if (url.username !== '' || url.password !== '') report(path, 'must not contain a user name or password')
  if (url.hash !== '') report(path, 'must not have a fragment (#...)')
  if (!baseOnly) return url.href
  if (url.search !== '') report(path, 'must not have a query (?...)')
  if (url.pathname !== '/') report(path, `must not have a path (${url.pathname}): requests keep their own path`)
  return url.origin
}

function isLoopbackHost (hostname: string): boolean {
  if (isIPv4(hostname)) return LOOPBACK_V4.check(hostname, 'ipv4')
  // URL gives IPv6 hosts bracketed and compressed.
  return hostname === 'localhost' || hostname === '[::1]'
}
