/** The `listen` (with `tls` and `publicUrl`) and `admin` sections (docs/configuration.md, Listeners). */
import { type BuildContext, number, optionalText, record, text } from './build-context.js'
import { DEFAULTS } from './schema.js'
import type { ListenConfig, ProxyListenConfig, TlsConfig } from './types.js'

/** Hosts whose listeners overlap every other host on the same port. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::'])

export interface Listeners {
  readonly listen: ProxyListenConfig
  readonly admin: ListenConfig
}

/** The proxy and admin listeners; the admin one must not overlap the proxy's. */
export function buildListeners (listenData: unknown, adminData: unknown, ctx: BuildContext): Listeners {
  const tlsData = record(listenData).tls
  const listen: ProxyListenConfig = {
    ...listenOf(listenData, DEFAULTS.listen),
    tls: tlsData === undefined ? undefined : buildTls(record(tlsData), ctx),
    publicUrl: publicUrlOf(record(listenData).publicUrl, ctx),
  }
  const admin = listenOf(adminData, DEFAULTS.admin)
  if (admin.port !== 0 && admin.port === listen.port && hostsOverlap(admin.host, listen.host)) {
    ctx.report(['admin', 'port'], `the admin listener ${hostPort(admin)} overlaps the proxy listener ${hostPort(listen)} (listen): give it another port`)
  }
  return { listen, admin }
}

function buildTls (tls: Readonly<Record<string, unknown>>, ctx: BuildContext): TlsConfig {
  const clientCertificates = tls.clientCertificates === 'request' || tls.clientCertificates === 'require' ? tls.clientCertificates : DEFAULTS.clientCertificates
  const caFile = ctx.file(tls.caFile, ['listen', 'tls', 'caFile'])
  if (clientCertificates !== 'none' && caFile === undefined) {
    ctx.report(['listen', 'tls', 'caFile'], `is required with clientCertificates: ${clientCertificates} (the CA that signs the integrations' certificates)`)
  }
  return {
    certFile: ctx.file(tls.certFile, ['listen', 'tls', 'certFile']) ?? '',
    keyFile: ctx.file(tls.keyFile, ['listen', 'tls', 'keyFile']) ?? '',
    caFile,
    clientCertificates,
  }
}

/**
 * `listen.publicUrl`: an absolute http(s) URL of scheme, host and port
 * (a trailing '/' at most), returned as its origin. Plain http is allowed:
 * it names the proxy, which may well serve plain HTTP on a private network.
 */
function publicUrlOf (value: unknown, { report }: BuildContext): string | undefined {
  const given = optionalText(value)
  if (given === undefined) return undefined
  const path = ['listen', 'publicUrl']
  let url: URL | undefined
  try {
    url = new URL(given)
  } catch {}
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    report(path, 'must be an absolute http(s) URL, such as https://campaign-proxy.example.com')
    return undefined
  }
  if (url.username !== '' || url.password !== '') report(path, 'must not contain a user name or password')
  // Searched in the text: URL drops an empty query or fragment ('?', '#').
  if (given.includes('?')) report(path, 'must not have a query (?...)')
  if (given.includes('#')) report(path, 'must not have a fragment (#...)')
  if (url.pathname !== '/') report(path, `must not have a path (${url.pathname}): WSDLs name /nl/jsp/soaprouter.jsp under it`)
  return url.origin
}

function listenOf (value: unknown, defaults: ListenConfig): ListenConfig {
  const listen = record(value)
  return { host: text(listen.host) ?? defaults.host, port: number(listen.port, defaults.port) }
}

function hostsOverlap (a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase() || WILDCARD_HOSTS.has(a) || WILDCARD_HOSTS.has(b)
}

function hostPort ({ host, port }: ListenConfig): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}
