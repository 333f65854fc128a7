/**
 * From schema-checked data to `Config`: defaults applied, paths resolved,
 * addresses normalised, and every rule that relates several values
 * checked. It runs even when the schema found problems, so one run reports
 * everything; values of the wrong type are read as absent here (the schema
 * has already reported them).
 */
import { BlockList, isIPv4 } from 'node:net'
import { resolve } from 'node:path'
import { normaliseCidr } from './cidr.js'
import type { Path, Problem } from './problems.js'
import { DEFAULTS, MIN_HEAD_BYTES, MIN_SESSION_SECRET_LENGTH, NAME_PATTERN, PASSWORD_HASH_PREFIX } from './schema.js'
import { checkReadableFile } from './secret.js'
import { parseSize } from './size.js'
import type { ClientCertificateMatch, Config, IntegrationConfig, ListenConfig, ProxyListenConfig, SecretSource, TechnicalAccountConfig, TlsConfig } from './types.js'

type Data = Readonly<Record<string, unknown>>

const LOOPBACK_V4 = new BlockList()
LOOPBACK_V4.addSubnet('127.0.0.0', 8, 'ipv4')
/** Hosts whose listeners overlap every other host on the same port. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::'])
const NAME_RULE = 'must start with a letter or digit and hold only letters, digits, ".", "_" and "-"'
/** Stands in for a secret the schema refused; never returned, as a problem is then thrown. */
const MISSING_SECRET: SecretSource = { kind: 'value', value: '' }

/** The configuration `data` describes; problems are appended to `problems`. */
export function buildConfig (data: Data, baseDir: string, problems: Problem[]): Config {
  const report = (path: Path, message: string): void => { problems.push({ path, message }) }
  const file = (value: unknown, path: Path): string | undefined => {
    const given = optionalText(value)
    if (given === undefined) return undefined
    const absolute = resolve(baseDir, given)
    const problem = checkReadableFile(absolute)
    if (problem !== undefined) report(path, problem)
    return absolute
  }
  const secretOf = (value: unknown, path: Path): SecretSource | undefined => {
    if (typeof value === 'string') return { kind: 'value', value }
    const filePath = file(record(value).file, [...path, 'file'])
    return filePath === undefined ? undefined : { kind: 'file', path: filePath }
  }
  const networksOf = (value: unknown, path: Path): string[] => list(value).flatMap((item, i) => {
    if (typeof item !== 'string') return []
    const result = normaliseCidr(item)
    if (result.ok) return [result.cidr]
    report([...path, i], result.problem)
    return []
  })
  const sizeOf = (value: unknown, key: keyof typeof DEFAULTS.limits): number => {
    if (typeof value === 'number') return value
    if (typeof value !== 'string') return DEFAULTS.limits[key]
    const bytes = parseSize(value)
    if (bytes !== undefined && bytes >= 1) return bytes
    report(['limits', key], 'must be a number of bytes or a size such as 64KiB, 1MiB, 1GiB, 10MB (at least 1 byte)')
    return DEFAULTS.limits[key]
  }

  // listen, admin
  let tls: TlsConfig | undefined
  const tlsData = record(record(data.listen).tls)
  if (record(data.listen).tls !== undefined) {
    const clientCertificates = tlsData.clientCertificates === 'request' || tlsData.clientCertificates === 'require' ? tlsData.clientCertificates : DEFAULTS.clientCertificates
    const caFile = file(tlsData.caFile, ['listen', 'tls', 'caFile'])
    if (clientCertificates !== 'none' && caFile === undefined) report(['listen', 'tls', 'caFile'], `is required with clientCertificates: ${clientCertificates} (the CA that signs the integrations' certificates)`)
    tls = {
      certFile: file(tlsData.certFile, ['listen', 'tls', 'certFile']) ?? '',
      keyFile: file(tlsData.keyFile, ['listen', 'tls', 'keyFile']) ?? '',
      caFile,
      clientCertificates,
    }
  }
  const listen: ProxyListenConfig = { ...listenOf(data.listen, DEFAULTS.listen), tls }
  const admin = listenOf(data.admin, DEFAULTS.admin)
  if (admin.port !== 0 && admin.port === listen.port && hostsOverlap(admin.host, listen.host)) {
    report(['admin', 'port'], `the admin listener ${hostPort(admin)} overlaps the proxy listener ${hostPort(listen)} (listen): give it another port`)
  }

  // campaign
  const campaign = record(data.campaign)
  const campaignUrl = text(campaign.url)
  const ims = record(data.ims)
  const tokenUrl = text(ims.tokenUrl) ?? DEFAULTS.ims.tokenUrl
  const backoff = record(ims.backoff)
  const initialSeconds = number(backoff.initialSeconds, DEFAULTS.ims.backoff.initialSeconds)
  const maxSeconds = number(backoff.maxSeconds, DEFAULTS.ims.backoff.maxSeconds)
  if (maxSeconds < initialSeconds) report(['ims', 'backoff', 'maxSeconds'], `must be at least ims.backoff.initialSeconds (${initialSeconds})`)

  // technicalAccounts
  const accounts = new Map<string, TechnicalAccountConfig>()
  for (const [name, value] of Object.entries(record(data.technicalAccounts))) {
    const path = ['technicalAccounts', name]
    if (!NAME_PATTERN.test(name)) report(path, `is not a valid technical account name: it ${NAME_RULE}`)
    const account = record(value)
    accounts.set(name, {
      name,
      clientId: text(account.clientId) ?? '',
      clientSecret: secretOf(account.clientSecret, [...path, 'clientSecret']) ?? MISSING_SECRET,
      scopes: list(account.scopes).filter(scope => typeof scope === 'string'),
    })
  }
  const checkAccountReference = (name: string | undefined, path: Path): void => {
    if (name !== undefined && !accounts.has(name)) {
      report(path, `names technical account "${name}", which is not defined in technicalAccounts`)
    }
  }

  // integrations
  const integrations: IntegrationConfig[] = []
  const certificates = new Map<string, number>()
  const certificatesOf = (value: unknown, path: Path, index: number): ClientCertificateMatch[] => list(value).flatMap((item, j): ClientCertificateMatch[] => {
    const entry = record(item)
    const subject = text(entry.subject)
    const sha256 = text(entry.sha256)
    if ((subject === undefined) === (sha256 === undefined)) {
      report([...path, j], 'needs exactly one of subject (e.g. "CN=crm-sync,O=Acme") or sha256 (the certificate\'s SHA-256 fingerprint)')
      return []
    }
    if (listen.tls === undefined || listen.tls.clientCertificates === 'none') {
      report([...path, j], 'needs listen.tls with clientCertificates: request or require (client certificates are only seen over mTLS)')
    }
    let match: ClientCertificateMatch
    if (sha256 !== undefined) {
      const hex = sha256.replace(/:/g, '').toUpperCase()
      if (!/^[0-9A-F]{64}$/.test(hex)) {
        report([...path, j, 'sha256'], 'must be a SHA-256 fingerprint: 64 hexadecimal digits, colons allowed (openssl x509 -noout -fingerprint -sha256)')
        return []
      }
      match = { sha256: hex.match(/../g)?.join(':') as string }
    } else {
      match = { subject: normaliseSubject(subject as string) }
    }
    const key = JSON.stringify(match)
    const first = certificates.get(key)
    if (first !== undefined && first !== index) report([...path, j], `identifies integrations[${first}] already`)
    certificates.set(key, index)
    return [match]
  })
  const names = new Map<string, number>()
  const logins = new Map<string, number>()
  const unique = (seen: Map<string, number>, value: string | undefined, index: number, path: Path, what: string): void => {
    if (value === undefined) return
    const first = seen.get(value)
    if (first === undefined) seen.set(value, index)
    else report(path, `${what} "${value}" is already used by integrations[${first}]`)
  }
  list(data.integrations).forEach((value, i) => {
    const at = ['integrations', i]
    const integration = record(value)
    const name = text(integration.name)
    const givenMode = integration.mode ?? DEFAULTS.integrationMode
    const mode = givenMode === 'passthrough' ? 'passthrough' : 'ims'
    const login = text(integration.login)
    const passwordHash = text(integration.passwordHash)
    const technicalAccount = text(integration.technicalAccount)
    if (name !== undefined && !NAME_PATTERN.test(name)) report([...at, 'name'], NAME_RULE)
    unique(names, name, i, [...at, 'name'], 'name')
    unique(logins, login, i, [...at, 'login'], 'login')
    const clientCertificates = certificatesOf(integration.clientCertificates, [...at, 'clientCertificates'], i)
    if (login === undefined && list(integration.networks).length === 0 && clientCertificates.length === 0) {
      report(at, `needs a login${mode === 'ims' ? ' (with passwordHash)' : ''}, networks or clientCertificates to recognise its callers`)
    }
    if (mode === 'passthrough') {
      const unused = 'is not used in passthrough mode (calls are forwarded untouched): remove it, or set mode: ims'
      if (passwordHash !== undefined) report([...at, 'passwordHash'], unused)
      if (technicalAccount !== undefined) report([...at, 'technicalAccount'], unused)
    } else if (givenMode === 'ims') {
      // An unknown mode was reported by the schema; its requirements are unknown too.
      if (technicalAccount === undefined) report([...at, 'technicalAccount'], 'is required in ims mode: it names the technical account whose token is injected')
      checkAccountReference(technicalAccount, [...at, 'technicalAccount'])
      if (login !== undefined && passwordHash === undefined) {
        report([...at, 'passwordHash'], 'is required with a login in ims mode: create it with `campaign-ims-proxy hash-password`')
      }
      if (passwordHash !== undefined && login === undefined) report([...at, 'passwordHash'], 'is set without a login')
      if (passwordHash !== undefined && !passwordHash.startsWith(PASSWORD_HASH_PREFIX)) {
        report([...at, 'passwordHash'], `must be a hash printed by \`campaign-ims-proxy hash-password\` (starting with ${PASSWORD_HASH_PREFIX})`)
      }
    }
    integrations.push({
      name: name ?? '',
      mode,
      login,
      passwordHash,
      networks: networksOf(integration.networks, [...at, 'networks']),
      clientCertificates,
      technicalAccount,
    })
  })

  // wsdl
  const wsdlAccount = optionalText(record(data.wsdl).technicalAccount)
  checkAccountReference(wsdlAccount, ['wsdl', 'technicalAccount'])

  // sessions
  const sessions = record(data.sessions)
  const sessionSecret = secretOf(sessions.secret, ['sessions', 'secret'])
  if (sessionSecret?.kind === 'value' && sessionSecret.value.length < MIN_SESSION_SECRET_LENGTH) {
    report(['sessions', 'secret'], `must be at least ${MIN_SESSION_SECRET_LENGTH} characters (for example \`openssl rand -base64 48\`)`)
  }
  const loginIntegration = integrations.findIndex(integration => integration.mode === 'ims' && integration.login !== undefined)
  if (sessionSecret === undefined && loginIntegration !== -1) {
    report(['sessions', 'secret'], `is required because integrations[${loginIntegration}] logs on with a login: proxy sessions are signed with it`)
  }

  // limits
  const limits = record(data.limits)
  const maxBodyBytes = sizeOf(limits.maxBodyBytes, 'maxBodyBytes')
  const replayLimitBytes = sizeOf(limits.replayLimitBytes, 'replayLimitBytes')
  const headBytes = sizeOf(limits.headBytes, 'headBytes')
  if (replayLimitBytes > maxBodyBytes) report(['limits', 'replayLimitBytes'], `must not exceed limits.maxBodyBytes (${maxBodyBytes})`)
  if (headBytes < MIN_HEAD_BYTES) report(['limits', 'headBytes'], `must be at least ${MIN_HEAD_BYTES} (1 KiB)`)
  if (headBytes > replayLimitBytes) report(['limits', 'headBytes'], `must not exceed limits.replayLimitBytes (${replayLimitBytes})`)
  const requestTimeoutSeconds = number(limits.requestTimeoutSeconds, DEFAULTS.limits.requestTimeoutSeconds)
  const headersTimeoutSeconds = number(limits.headersTimeoutSeconds, DEFAULTS.limits.headersTimeoutSeconds)
  if (headersTimeoutSeconds > requestTimeoutSeconds) report(['limits', 'headersTimeoutSeconds'], `must not exceed limits.requestTimeoutSeconds (${requestTimeoutSeconds})`)

  return {
    listen,
    admin,
    campaign: {
      url: campaignUrl === undefined ? '' : checkUrl(campaignUrl, ['campaign', 'url'], report, true),
      timeoutSeconds: number(campaign.timeoutSeconds, DEFAULTS.campaign.timeoutSeconds),
      connectTimeoutSeconds: number(campaign.connectTimeoutSeconds, DEFAULTS.campaign.connectTimeoutSeconds),
      caFile: file(campaign.caFile, ['campaign', 'caFile']),
      maxConnections: number(campaign.maxConnections, DEFAULTS.campaign.maxConnections),
    },
    ims: {
      tokenUrl: checkUrl(tokenUrl, ['ims', 'tokenUrl'], report, false),
      timeoutSeconds: number(ims.timeoutSeconds, DEFAULTS.ims.timeoutSeconds),
      refreshRatio: number(ims.refreshRatio, DEFAULTS.ims.refreshRatio),
      expirySkewSeconds: number(ims.expirySkewSeconds, DEFAULTS.ims.expirySkewSeconds),
      backoff: { initialSeconds, maxSeconds },
      caFile: file(ims.caFile, ['ims', 'caFile']),
    },
    technicalAccounts: accounts,
    sessions: {
      secret: sessionSecret,
      ttlSeconds: number(sessions.ttlSeconds, DEFAULTS.sessions.ttlSeconds),
    },
    unknownCallers: data.unknownCallers === 'reject' ? 'reject' : DEFAULTS.unknownCallers,
    wsdl: { technicalAccount: wsdlAccount },
    integrations,
    trustedProxies: networksOf(data.trustedProxies, ['trustedProxies']),
    limits: {
      maxBodyBytes,
      replayLimitBytes,
      headBytes,
      maxHeaderBytes: sizeOf(limits.maxHeaderBytes, 'maxHeaderBytes'),
      maxConcurrentRequests: number(limits.maxConcurrentRequests, DEFAULTS.limits.maxConcurrentRequests),
      requestTimeoutSeconds,
      headersTimeoutSeconds,
      keepAliveTimeoutSeconds: number(limits.keepAliveTimeoutSeconds, DEFAULTS.limits.keepAliveTimeoutSeconds),
    },
    logging: { level: logLevel(record(data.logging).level) },
  }
}

/**
 * An absolute http(s) URL without credentials or fragment, TLS unless the
 * host is loopback. `baseOnly`: nothing but scheme, host and port (the
 * proxy appends each request's own path), returned as the origin, which
 * drops a trailing slash.
 */
function checkUrl (value: string, path: Path, report: (path: Path, message: string) => void, baseOnly: boolean): string {
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

function hostsOverlap (a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase() || WILDCARD_HOSTS.has(a) || WILDCARD_HOSTS.has(b)
}

function hostPort ({ host, port }: ListenConfig): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

function listenOf (value: unknown, defaults: ListenConfig): ListenConfig {
  const listen = record(value)
  return { host: text(listen.host) ?? defaults.host, port: number(listen.port, defaults.port) }
}

function logLevel (value: unknown): Config['logging']['level'] {
  return typeof value === 'string' ? value as Config['logging']['level'] : DEFAULTS.logging.level
}

/**
 * A distinguished name as the proxy compares it: `KEY=value` parts in the
 * order written, keys upper-cased, spaces around `,` and `=` dropped
 * (`cn = crm, o=Acme` → `CN=crm,O=Acme`).
 */
export function normaliseSubject (subject: string): string {
  return subject.split(',').map(part => {
    const eq = part.indexOf('=')
    return eq === -1 ? part.trim() : `${part.slice(0, eq).trim().toUpperCase()}=${part.slice(eq + 1).trim()}`
  }).filter(part => part !== '').join(',')
}

function record (value: unknown): Data {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Data : {}
}

function list (value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : []
}

function text (value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function optionalText (value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

function number (value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback
}
