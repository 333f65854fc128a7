/**
 * The `integrations` section: how each integration is recognised (login,
 * networks, client certificates), its mode and what that mode requires;
 * docs/configuration.md, Integrations and Validation rules.
 */
import { parsePasswordHash } from './password-hash.js'
import { type Accounts, checkAccountReference, NAME_RULE } from './build-accounts.js'
import { type BuildContext, list, record, text } from './build-context.js'
import { FrozenMap } from './freeze.js'
import type { Path } from './problems.js'
import { DEFAULTS, MAX_INTEGRATION_NAME_LENGTH, NAME_PATTERN, PASSWORD_HASH_PREFIX } from './schema.js'
import { allowedMethodProblem, allowedPathProblem } from './allow-list.js'
import { normaliseSubject } from './subject.js'
import type { CampaignInstanceConfig, ClientCertificateMatch, IntegrationConfig, ProxyListenConfig } from './types.js'

/** What the integrations refer to from earlier sections. */
export interface IntegrationsNeeds {
  /** Client certificates need TLS with client certificates on. */
  readonly listen: ProxyListenConfig
  readonly accounts: Accounts
  /** A per-instance `technicalAccount` map names these instances. */
  readonly campaigns: ReadonlyMap<string, CampaignInstanceConfig>
}

export function buildIntegrations (data: unknown, { listen, accounts, campaigns }: IntegrationsNeeds, ctx: BuildContext): IntegrationConfig[] {
  const { report } = ctx
  const certificatesOf = certificateMatcher(listen, ctx)
  const names = new Map<string, number>()
  const logins = new Map<string, number>()
  const unique = (seen: Map<string, number>, value: string | undefined, index: number, path: Path, what: string): void => {
    if (value === undefined) return
    const first = seen.get(value)
    if (first === undefined) seen.set(value, index)
    else report(path, `${what} "${value}" is already used by integrations[${first}]`)
  }
  return list(data).map((value, i): IntegrationConfig => {
    const at = ['integrations', i]
    const integration = record(value)
    const name = text(integration.name)
    const givenMode = integration.mode ?? DEFAULTS.integrationMode
    const mode = givenMode === 'passthrough' ? 'passthrough' : 'ims'
    const login = text(integration.login)
    const passwordHash = text(integration.passwordHash)
    const technicalAccount = technicalAccountOf(integration.technicalAccount)
    if (name !== undefined && !NAME_PATTERN.test(name)) report([...at, 'name'], NAME_RULE)
    else if (name !== undefined && name.length > MAX_INTEGRATION_NAME_LENGTH) report([...at, 'name'], `is longer than ${MAX_INTEGRATION_NAME_LENGTH} characters (every proxy session token carries it)`)
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
      checkAccountReferences(technicalAccount, { accounts, campaigns }, [...at, 'technicalAccount'], ctx)
      if (login !== undefined && passwordHash === undefined) {
        report([...at, 'passwordHash'], 'is required with a login in ims mode: create it with `campaign-ims-proxy hash-password`')
      }
      if (passwordHash !== undefined && login === undefined) report([...at, 'passwordHash'], 'is set without a login')
      const hashProblem = passwordHash === undefined ? undefined : passwordHashProblem(passwordHash)
      if (hashProblem !== undefined) report([...at, 'passwordHash'], hashProblem)
    }
    return {
      name: name ?? '',
      mode,
      login,
      passwordHash,
      networks: ctx.networksOf(integration.networks, [...at, 'networks']),
      clientCertificates,
      technicalAccount,
      allowedMethods: allowList(integration.allowedMethods, [...at, 'allowedMethods'], allowedMethodProblem, ctx),
      allowedPaths: allowList(integration.allowedPaths, [...at, 'allowedPaths'], allowedPathProblem, ctx),
    }
  })
}

/** `allowedMethods` / `allowedPaths`: absent stays undefined (no restriction); every entry checked by `problemOf`, duplicates named. */
function allowList (value: unknown, path: Path, problemOf: (entry: string) => string | undefined, { report }: BuildContext): readonly string[] | undefined {
  if (value === undefined || value === null) return undefined
  const seen = new Set<string>()
  return Object.freeze(list(value).flatMap((item, j) => {
    const entry = text(item)
    /* c8 ignore next -- a non-text entry was reported by the schema */
    if (entry === undefined) return []
    const problem = problemOf(entry)
    if (problem !== undefined) report([...path, j], problem)
    else if (seen.has(entry)) report([...path, j], `lists "${entry}" twice`)
    seen.add(entry)
    return problem === undefined ? [entry] : []
  }))
}

/** `technicalAccount`: one account name, or a map of instance name to account name (a value of the wrong type is left out: the schema reported it). */
function technicalAccountOf (value: unknown): IntegrationConfig['technicalAccount'] {
  if (typeof value !== 'object' || value === null) return text(value)
  return new FrozenMap(Object.entries(record(value)).map(([instance, account]) => [instance, text(account) ?? ''] as const))
}

/** Every account named exists, and a map names at least one instance, each of them configured. */
function checkAccountReferences (technicalAccount: IntegrationConfig['technicalAccount'], { accounts, campaigns }: Omit<IntegrationsNeeds, 'listen'>, path: Path, ctx: BuildContext): void {
  if (typeof technicalAccount !== 'object') {
    checkAccountReference(accounts, technicalAccount, path, ctx)
    return
  }
  if (technicalAccount.size === 0) ctx.report(path, 'must name at least one Campaign instance and its technical account')
  for (const [instance, account] of technicalAccount) {
    if (!campaigns.has(instance)) ctx.report([...path, instance], `names Campaign instance "${instance}", which is not defined in campaigns (instances: ${[...campaigns.keys()].join(', ')})`)
    checkAccountReference(accounts, account, [...path, instance], ctx)
  }
}

/**
 * What is wrong with a configured hash, checked as a Logon would read it so
 * that a malformed one is refused at load rather than at the first Logon.
 * The message never carries the hash.
 */
function passwordHashProblem (passwordHash: string): string | undefined {
  if (!passwordHash.startsWith(PASSWORD_HASH_PREFIX)) {
    return `must be a hash printed by \`campaign-ims-proxy hash-password\` (starting with ${PASSWORD_HASH_PREFIX})`
  }
  try {
    parsePasswordHash(passwordHash)
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

type CertificatesOf = (value: unknown, path: Path, index: number) => ClientCertificateMatch[]

/** Reads an integration's `clientCertificates`; each certificate may identify one integration only. */
function certificateMatcher (listen: ProxyListenConfig, { report }: BuildContext): CertificatesOf {
  const certificates = new Map<string, number>()
  return (value, path, index) => list(value).flatMap((item, j): ClientCertificateMatch[] => {
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
}
