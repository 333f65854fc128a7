/** The `campaign` and `ims` sections: the two upstreams (docs/configuration.md, Campaign and IMS). */
import { BlockList, isIPv4 } from 'node:net'
import { type BuildContext, number, record, text } from './build-context.js'
import type { Path } from './problems.js'
import { DEFAULTS } from './schema.js'
import type { CampaignConfig, ImsConfig } from './types.js'

const LOOPBACK_V4 = new BlockList()
LOOPBACK_V4.addSubnet('127.0.0.0', 8, 'ipv4')

export function buildCampaign (data: unknown, ctx: BuildContext): CampaignConfig {
  const campaign = record(data)
  const url = text(campaign.url)
  return {
    url: url === undefined ? '' : checkUrl(url, ['campaign', 'url'], ctx, true),
    timeoutSeconds: number(campaign.timeoutSeconds, DEFAULTS.campaign.timeoutSeconds),
    connectTimeoutSeconds: number(campaign.connectTimeoutSeconds, DEFAULTS.campaign.connectTimeoutSeconds),
    caFile: ctx.file(campaign.caFile, ['campaign', 'caFile']),
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
