/**
 * From schema-checked data to `Config`: defaults applied, paths resolved,
 * addresses normalised, and every rule that relates several values
 * checked (docs/configuration.md, Validation rules). It runs even when the
 * schema found problems, so one run reports everything; values of the
 * wrong type are read as absent here (the schema has already reported
 * them). Each section is built by its own function, given what it needs
 * from the sections before it; parseConfig sorts the problems into
 * document order.
 */
import { buildTechnicalAccounts, buildWsdl } from './build-accounts.js'
import { type BuildContext, createContext, type Data, number, record, text } from './build-context.js'
import { buildIntegrations } from './build-integrations.js'
import { buildLimits, buildLockout } from './build-limits.js'
import { buildListeners } from './build-listen.js'
import { buildCampaigns, buildIms } from './build-upstreams.js'
import type { Problem } from './problems.js'
import { DEFAULTS, MIN_SESSION_SECRET_LENGTH } from './schema.js'
import type { Config, IntegrationConfig, RedisStoreConfig, SessionsConfig } from './types.js'

/** The configuration `data` describes; problems are appended to `problems`. */
export function buildConfig (data: Data, baseDir: string, problems: Problem[]): Config {
  const ctx = createContext(baseDir, problems)
  const { listen, admin } = buildListeners(data.listen, data.admin, ctx)
  const { campaign, campaigns, defaultCampaign } = buildCampaigns(data, { listen, admin }, ctx)
  const ims = buildIms(data.ims, ctx)
  const technicalAccounts = buildTechnicalAccounts(data.technicalAccounts, ctx)
  const integrations = buildIntegrations(data.integrations, { listen, accounts: technicalAccounts, campaigns }, ctx)
  const wsdl = buildWsdl(data.wsdl, technicalAccounts, ctx)
  const sessions = buildSessions(data.sessions, integrations, ctx)
  const limits = buildLimits(data.limits, ctx)
  return {
    listen,
    admin,
    campaign,
    campaigns,
    defaultCampaign,
    ims,
    technicalAccounts,
    sessions,
    unknownCallers: data.unknownCallers === 'reject' ? 'reject' : DEFAULTS.unknownCallers,
    wsdl,
    integrations,
    trustedProxies: buildTrustedProxies(data.trustedProxies, ctx),
    limits,
    lockout: buildLockout(data.lockout, ctx),
    logging: buildLogging(data.logging),
    store: { redis: buildRedisStore(record(data.store).redis, ctx) },
  }
}

/** Sessions are signed with `secret`, required once an ims integration logs on with a login. */
function buildSessions (data: unknown, integrations: readonly IntegrationConfig[], { report, secretOf }: BuildContext): SessionsConfig {
  const sessions = record(data)
  const secret = secretOf(sessions.secret, ['sessions', 'secret'])
  if (secret?.kind === 'value' && secret.value.length < MIN_SESSION_SECRET_LENGTH) {
    report(['sessions', 'secret'], `must be at least ${MIN_SESSION_SECRET_LENGTH} characters (for example \`openssl rand -base64 48\`)`)
  }
  const loginIntegration = integrations.findIndex(integration => integration.mode === 'ims' && integration.login !== undefined)
  if (secret === undefined && loginIntegration !== -1) {
    report(['sessions', 'secret'], `is required because integrations[${loginIntegration}] logs on with a login: proxy sessions are signed with it`)
  }
  return { secret, ttlSeconds: number(sessions.ttlSeconds, DEFAULTS.sessions.ttlSeconds) }
}

function buildTrustedProxies (data: unknown, { networksOf }: BuildContext): string[] {
  return networksOf(data, ['trustedProxies'])
}

/** `store.redis`: a redis:// or rediss:// URL; a password in the URL or as a secret, not both. */
function buildRedisStore (data: unknown, ctx: BuildContext): RedisStoreConfig | undefined {
  if (data === undefined || data === null) return undefined
  const redis = record(data)
  const path = ['store', 'redis']
  const url = text(redis.url) ?? ''
  const password = ctx.secretOf(redis.password, [...path, 'password'])
  let parsed: URL | undefined
  try {
    parsed = new URL(url)
  } catch {
    parsed = undefined
  }
  if (parsed === undefined || !['redis:', 'rediss:'].includes(parsed.protocol) || parsed.hostname === '') {
    if (url !== '') ctx.report([...path, 'url'], 'must be a redis:// or rediss:// (TLS) URL such as redis://redis:6379/0')
  } else {
    if (parsed.password !== '' && password !== undefined) ctx.report([...path, 'password'], 'is given twice: in store.redis.url and here; keep one (a secret file is safer than the URL)')
    if (!/^(?:\/(?:\d{1,2})?)?$/.test(parsed.pathname)) ctx.report([...path, 'url'], 'may only name a database number after the host (redis://host:6379/0)')
    if (parsed.search !== '' || parsed.hash !== '') ctx.report([...path, 'url'], 'must not carry a query or a fragment')
  }
  const caFile = ctx.file(redis.caFile, [...path, 'caFile'])
  if (caFile !== undefined && parsed?.protocol !== 'rediss:') ctx.report([...path, 'caFile'], 'is only used with a rediss:// (TLS) URL')
  return {
    url,
    username: text(redis.username),
    password,
    caFile,
    keyPrefix: text(redis.keyPrefix) ?? DEFAULTS.store.keyPrefix,
    timeoutSeconds: number(redis.timeoutSeconds, DEFAULTS.store.timeoutSeconds),
    inventoryFlushSeconds: number(redis.inventoryFlushSeconds, DEFAULTS.store.inventoryFlushSeconds),
  }
}

function buildLogging (data: unknown): Config['logging'] {
  const level = record(data).level
  return { level: typeof level === 'string' ? level as Config['logging']['level'] : DEFAULTS.logging.level }
}
