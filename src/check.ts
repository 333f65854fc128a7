/**
 * `campaign-ims-proxy check --config FILE`: step 5 of Adobe's migration
 * procedure, before any integration is repointed. Validates the
 * configuration, asks IMS for a token per technical account (one attempt
 * each), calls each Campaign instance the account is used on with it
 * (`GET /r/test` for the build, `xtk:session#GetUserInfo` for the operator
 * the account maps to), and prints a table, one row per (instance, account)
 * pair. The exit code names the first problem's kind.
 */
import { CampaignClient, campaignPool } from './campaign/client.js'
import { ConfigError, loadConfig } from './config/load.js'
import { readSecret } from './config/secret.js'
import type { Pool } from 'undici'
import { accountsByInstance } from './config/account-uses.js'
import { SINGLE_CAMPAIGN_NAME } from './config/schema.js'
import type { CampaignInstanceConfig, Config, TechnicalAccountConfig } from './config/types.js'
import { tokenFingerprint } from './ims/token-provider.js'
import { interpretTokenResponse } from './ims/token-response.js'
import { createUndiciTransport } from './ims/transport.js'
import { boundedMessage, errorCode } from './observability/bounded.js'
import { childNamed, parseXml, type XmlElement } from './soap/xml-tree.js'

export const CHECK_EXIT = {
  ok: 0,
  /** The configuration is invalid (or the command line). */
  config: 2,
  /** IMS refused the credential: wrong client id or secret, wrong scopes, unreadable secret file. */
  imsRefused: 3,
  /** IMS could not be reached or answered something unusable. */
  imsUnavailable: 4,
  /** Campaign could not be reached or did not answer as Campaign. */
  campaignUnavailable: 5,
  /** Campaign refused the technical account's token. */
  campaignRefused: 6,
} as const

export const CHECK_USAGE = `Usage: campaign-ims-proxy check --config FILE

Checks a configuration before it serves (Adobe's migration step 5): validates
the file, requests an IMS token for every technical account, and calls each
Campaign instance the account is used on with it (GET /r/test,
xtk:session#GetUserInfo). Prints one line per instance and account: token,
time to expiry, the Campaign operator the account acts as, and the
instance's build. No secret or token is printed (token fingerprints only).

Exit codes:
  0  every account works
  2  the configuration is invalid
  3  IMS refused a credential (client id, client secret or scopes)
  4  IMS could not be reached or answered something unusable
  5  Campaign could not be reached or did not answer as Campaign
  6  Campaign refused a technical account's token
`

export type CheckKind = keyof typeof CHECK_EXIT

export interface AccountResult {
  /** The Campaign instance checked (an IMS failure is reported on every instance of the account). */
  readonly instance: string
  readonly account: string
  readonly kind: CheckKind
  readonly fingerprint?: string
  readonly expiresInSeconds?: number
  readonly operator?: string
  readonly build?: string
  /** The instance's clock at `/r/test` (its `date`), as Campaign wrote it. */
  readonly serverDate?: string
  /** What is wrong and what to do, when kind is not ok. */
  readonly reason?: string
}

export type TokenAnswer =
  | { readonly ok: true, readonly token: string, readonly expiresAt: number }
  | { readonly ok: false, readonly kind: CheckKind, readonly reason: string }

export type RequestToken = ReturnType<typeof createUndiciTransport>['requestToken']

/**
 * The (instance, account) pairs to check (docs/configuration.md#several-campaign-instances):
 * each instance with every account used on it; an account no integration
 * uses yet is checked on the default instance (else the first), so that a
 * credential can be validated before an integration names it.
 */
export function checkPairs (config: Config): Array<{ readonly instance: CampaignInstanceConfig, readonly account: TechnicalAccountConfig }> {
  const uses = accountsByInstance(config)
  const used = new Set([...uses.values()].flat())
  const fallback = config.defaultCampaign ?? (config.campaigns.keys().next().value as string)
  const pairs = []
  for (const instance of config.campaigns.values()) {
    const accounts = uses.get(instance.name) as readonly string[]
    for (const account of config.technicalAccounts.values()) {
      if (accounts.includes(account.name) || (instance.name === fallback && !used.has(account.name))) pairs.push({ instance, account })
    }
  }
  return pairs
}

export async function checkCommand (configPath: string, env: Readonly<Record<string, string | undefined>>, out: NodeJS.WritableStream, now: () => number = Date.now): Promise<number> {
  let config: Config
  try {
    config = await loadConfig(configPath, env)
  } catch (err) {
    /* c8 ignore next -- loadConfig reports every problem as a ConfigError; anything else is a bug to surface */
    if (!(err instanceof ConfigError)) throw err
    out.write(`${err.message}\n\ncheck: the configuration is invalid (exit ${CHECK_EXIT.config})\n`)
    return CHECK_EXIT.config
  }
  const several = config.campaigns.size > 1
  const campaigns = several ? `Campaign instances ${[...config.campaigns.values()].map(i => `${i.name} ${i.url}`).join(', ')}` : `Campaign ${config.campaign.url}`
  out.write(`Configuration ${configPath}: valid. ${campaigns}, IMS ${config.ims.tokenUrl}\n\n`)
  const transport = createUndiciTransport(config.ims)
  const pools = new Map([...config.campaigns.values()].map(instance => [instance.name, campaignPool(instance, 2)]))
  const tokens = new Map<string, Promise<TokenAnswer>>()
  const results: AccountResult[] = []
  try {
    for (const { instance, account } of checkPairs(config)) {
      // One token request per account, whichever instances it is checked on.
      let token = tokens.get(account.name)
      if (token === undefined) {
        token = tokenOf(account, config, transport.requestToken, now)
        tokens.set(account.name, token)
      }
      const answer = await token
      results.push(answer.ok
        ? await checkOn(instance, account.name, answer, new CampaignClient(pools.get(instance.name) as Pool), now)
        : { instance: instance.name, account: account.name, kind: answer.kind, reason: answer.reason })
    }
  } finally {
    await Promise.allSettled([transport.close(), ...[...pools.values()].map(pool => pool.close())])
  }
  out.write(table(results, several))
  const failed = results.filter(r => r.kind !== 'ok')
  for (const r of failed) out.write(`\n${several ? `${r.account} on ${r.instance}` : r.account}: ${r.reason as string}\n`)
  if (results.length === 0) out.write('No technical account is configured: nothing to check.\n')
  const first = failed[0]
  const checked = several ? 'instance and technical account pairs' : 'technical accounts'
  out.write(first === undefined
    ? `\ncheck: every technical account works${several ? ' on every instance it is used on' : ''}\n`
    : `\ncheck: ${failed.length} of ${results.length} ${checked} failed (exit ${CHECK_EXIT[first.kind]})\n`)
  return first === undefined ? CHECK_EXIT.ok : CHECK_EXIT[first.kind]
}

/** One token request for `account`: its token, or why there is none and the kind of failure. */
export async function tokenOf (account: TechnicalAccountConfig, config: Config, requestToken: RequestToken, now: () => number): Promise<TokenAnswer> {
  const name = account.name
  let secret: string
  try {
    secret = await readSecret(account.clientSecret)
  /* c8 ignore next 3 -- the loader has just checked the file: only one removed or emptied since reaches this */
  } catch (err) {
    return { ok: false, kind: 'imsRefused', reason: `the client secret cannot be read (${(err as Error).message}): make technicalAccounts.${name}.clientSecret a readable, non-empty file` }
  }
  try {
    const controller = new AbortController()
    const timer = setTimeout(() => { controller.abort(new Error(`no answer within ims.timeoutSeconds (${config.ims.timeoutSeconds} s)`)) }, config.ims.timeoutSeconds * 1000)
    try {
      const response = await requestToken({ tokenUrl: config.ims.tokenUrl, clientId: account.clientId, clientSecret: secret, scopes: account.scopes, signal: controller.signal })
      const body = await response.text()
      const answer = interpretTokenResponse({ status: response.status, retryAfter: response.headers.get('retry-after'), body, receivedAt: now() })
      if (!answer.ok) {
        if (answer.outcome === 'config') {
          const fix = answer.imsError === 'invalid_scope'
            ? `make technicalAccounts.${name}.scopes match the scopes of the OAuth Server-to-Server credential in the Developer Console`
            : `check technicalAccounts.${name}.clientId and clientSecret against the OAuth Server-to-Server credential in the Developer Console`
          // IMS's error_description is never printed (docs/security.md): the status and the error code say enough.
          return { ok: false, kind: 'imsRefused', reason: `IMS refused the credential (HTTP ${response.status} ${answer.imsError as string}): ${fix}` }
        }
        return { ok: false, kind: 'imsUnavailable', reason: `IMS did not issue a token (${answer.message}): check ims.tokenUrl and try again later` }
      }
      return { ok: true, token: answer.accessToken, expiresAt: answer.expiresAt }
    } finally {
      clearTimeout(timer)
    }
  } catch (err) {
    return { ok: false, kind: 'imsUnavailable', reason: `IMS could not be reached at ${config.ims.tokenUrl} (${describe(err)}): check ims.tokenUrl, the network path and ims.caFile` }
  }
}

/** Calls `instance` with the account's token: its build (`/r/test`), then the operator the token acts as. */
export async function checkOn (instance: CampaignInstanceConfig, account: string, { token, expiresAt }: { readonly token: string, readonly expiresAt: number }, campaign: CampaignClient, now: () => number): Promise<AccountResult> {
  // `campaign:` alone is the instance named default: its keys and messages stay unqualified.
  const single = instance.name === SINGLE_CAMPAIGN_NAME
  const key = single ? 'campaign' : `campaigns.${instance.name}`
  const who = single ? 'Campaign' : `Campaign instance ${instance.name}`
  const withToken = { instance: instance.name, account, fingerprint: tokenFingerprint(token), expiresInSeconds: Math.max(0, Math.round((expiresAt - now()) / 1000)) }
  let build: string | undefined
  let operator: string | undefined
  let serverDate: string | undefined
  try {
    const redir = await campaign.redir()
    build = attribute(redir.text, 'redir', 'build')
    serverDate = attribute(redir.text, 'redir', 'date')
    if (redir.status !== 200 || build === undefined) return { ...withToken, kind: 'campaignUnavailable', reason: `GET ${instance.url}/r/test answered HTTP ${redir.status} without a build: is ${key}.url the Campaign instance?` }
    const info = await campaign.getUserInfo(token)
    const infoText = info.text
    const fault = faultString(infoText)
    if (fault !== undefined) {
      return {
        ...withToken,
        build,
        kind: 'campaignRefused',
        reason: `${who} refused the technical account's token (HTTP ${info.status}: ${fault}): add the credential to ${single ? 'the' : 'this instance\'s'} Campaign product profile in the Admin Console, and check that the instance accepts IMS technical accounts (Campaign v8.5+)`,
      }
    }
    if (info.status !== 200) return { ...withToken, build, kind: 'campaignUnavailable', reason: `${who} answered xtk:session#GetUserInfo with HTTP ${info.status} and no SOAP answer: try again later, or check ${key}.url` }
    /* c8 ignore next -- Campaign's GetUserInfo always names the operator */
    operator = attribute(infoText, 'userInfo', 'login') ?? '(not in the answer)'
  } catch (err) {
    return { ...withToken, ...(build === undefined ? {} : { build }), kind: 'campaignUnavailable', reason: `${who} could not be reached at ${instance.url} (${describe(err)}): check ${key}.url, the network path and ${key}.caFile` }
  }
  return { ...withToken, build, operator, ...(serverDate === undefined ? {} : { serverDate }), kind: 'ok' }
}

function table (results: readonly AccountResult[], several: boolean): string {
  const instance = (cell: string): string[] => several ? [cell] : []
  const rows = [[...instance('campaign'), 'account', 'token', 'expires in', 'Campaign operator', 'build', 'result']]
  for (const r of results) {
    rows.push([
      ...instance(r.instance),
      r.account,
      r.fingerprint === undefined ? 'FAILED' : `ok (${r.fingerprint})`,
      r.expiresInSeconds === undefined ? '-' : duration(r.expiresInSeconds),
      r.operator ?? '-',
      r.build ?? '-',
      r.kind === 'ok' ? 'ok' : RESULT_LABELS[r.kind],
    ])
  }
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map(row => (row[i] as string).length)))
  return rows.map(row => row.map((cell, i) => cell.padEnd(widths[i] as number)).join('  ').trimEnd()).join('\n') + '\n'
}

const RESULT_LABELS: Readonly<Record<Exclude<CheckKind, 'ok'>, string>> = {
  config: 'configuration invalid',
  imsRefused: 'IMS refused the credential',
  imsUnavailable: 'IMS unavailable',
  campaignUnavailable: 'Campaign unreachable',
  campaignRefused: 'Campaign refused the token',
}

function duration (seconds: number): string {
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  return `${h}h${String(m).padStart(2, '0')}m`
}

/** The most telling part of a network error: its code (ECONNREFUSED...), else its message, bounded. */
export function describe (err: unknown): string {
  return errorCode(err) ?? boundedMessage((err as Error).message)
}

export function tryParse (text: string): XmlElement | undefined {
  try {
    return parseXml(text)
  } catch {
    return undefined
  }
}

export function findElement (element: XmlElement | undefined, local: string): XmlElement | undefined {
  if (element === undefined) return undefined
  if (element.local === local) return element
  for (const child of element.children) {
    const found = findElement(child, local)
    if (found !== undefined) return found
  }
  return undefined
}

function attribute (xml: string, element: string, name: string): string | undefined {
  return findElement(tryParse(xml), element)?.attrs[name]
}

export function faultString (xml: string): string | undefined {
  const fault = findElement(tryParse(xml), 'Fault')
  if (fault === undefined) return undefined
  /* c8 ignore next -- a SOAP 1.1 fault always has a faultstring */
  return boundedMessage(childNamed(fault, 'faultstring')?.text ?? 'SOAP fault')
}
