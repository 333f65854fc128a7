/**
 * `campaign-ims-proxy audit-rights`: step 4 of Adobe's migration
 * procedure, automated (docs/audit-rights.md). With a technical account's
 * IMS token (obtained as `check` does), it reads the folder permissions,
 * named rights and groups of the legacy technical operator and of the
 * operator Campaign created for the technical account, prints what the new
 * operator lacks, and with `--apply` writes the missing folder permissions.
 * Named rights are reported, never written: Adobe's guidance is to grant
 * them through product profiles.
 */
import { parseArgs } from 'node:util'
import { missingAccess } from './audit/compare.js'
import { folderPermissionsQuery, folderPermissionWrite, groupsQuery, operatorQuery, readFolderPermissions, readGroups, readOperator, xtkString, type OperatorRow } from './audit/queries.js'
import { applyText, auditJson, auditText, errorJson, planText, verdictText, type ApplyResult, type AuditResult, type OperatorAccess, type WriteResult } from './audit/report.js'
import { CampaignClient, campaignPool } from './campaign/client.js'
import { CHECK_EXIT, checkOn, describe, faultString, findElement, tokenOf, tryParse, type CheckKind } from './check.js'
import type { CommandIo } from './commands.js'
import { loadConfig } from './config/load.js'
import { SINGLE_CAMPAIGN_NAME } from './config/schema.js'
import type { CampaignInstanceConfig, Config } from './config/types.js'
import type { PasswordInput } from './hash-password-command.js'
import { createUndiciTransport } from './ims/transport.js'
import { boundedMessage } from './observability/bounded.js'
import { childNamed, type XmlElement } from './soap/xml-tree.js'
import { UsageError } from './usage-error.js'

/** check's exit codes, and 7: something is missing (docs/audit-rights.md#exit-codes). */
export const AUDIT_EXIT = { ...CHECK_EXIT, missing: 7 } as const

export const AUDIT_RIGHTS_USAGE = `Usage: campaign-ims-proxy audit-rights --config FILE --operator LOGIN --account ACCOUNT
         [--campaign NAME] [--json] [--apply [--yes]]

Adobe's migration step 4: compares the folder permissions and named rights
granted directly to the legacy technical operator LOGIN with those of the
operator Campaign creates for the technical account ACCOUNT (named after its
Technical Account Email, on the account's first call), and prints what the
new operator lacks. Groups are listed, not compared (Adobe migrates them to
product profiles). Nothing is written without --apply; named rights are
never written (grant them through the product profile). No secret or token
is printed.

Options:
  --config FILE      the proxy's configuration, as for check
  --operator LOGIN   the legacy technical operator's login
  --account ACCOUNT  the technical account (a key of technicalAccounts)
  --campaign NAME    the Campaign instance (a key of campaigns; default
                     defaultCampaign; campaign: alone is 'default')
  --json             one JSON document on stdout instead of the table
  --apply            write the missing folder permissions (xtk:rights) for
                     the technical account's operator, after confirmation
  --yes              with --apply: do not ask (needed when standard input is
                     not a terminal: without it, nothing is written)

Exit codes:
  0  nothing is missing
  2  the command line or the configuration is invalid, an unknown account or
     instance, or LOGIN is no operator of the instance
  3  IMS refused the credential      4  IMS could not be reached
  5  Campaign could not be reached   6  Campaign refused the token or a query
  7  something is missing (after --apply: a write failed, or a named right is
     missing, which the command does not write)

See docs/audit-rights.md.
`

interface AuditOptions {
  readonly config: string
  readonly operator: string
  readonly account: string
  readonly campaign: string | undefined
  readonly json: boolean
  readonly apply: boolean
  readonly yes: boolean
}

/** A run that stops before the comparison: its kind names the exit code. */
class AuditFailure extends Error {
  override name = 'AuditFailure'
  readonly kind: CheckKind
  constructor (kind: CheckKind, message: string) {
    super(message)
    this.kind = kind
  }
}

function auditOptions (args: readonly string[], stdinIsTerminal: boolean): AuditOptions {
  let values
  try {
    values = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string', short: 'c' },
        operator: { type: 'string' },
        account: { type: 'string' },
        campaign: { type: 'string' },
        json: { type: 'boolean' },
        apply: { type: 'boolean' },
        yes: { type: 'boolean' },
      },
    }).values
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const { config, operator, account } = values
  if (config === undefined || operator === undefined || account === undefined) throw new UsageError('--config FILE, --operator LOGIN and --account ACCOUNT are required')
  try {
    xtkString(operator)
  } catch (err) {
    throw new UsageError(`--operator: ${(err as Error).message}`)
  }
  const apply = values.apply === true
  const yes = values.yes === true
  if (yes && !apply) throw new UsageError('--yes goes with --apply')
  if (apply && !yes && !stdinIsTerminal) {
    throw new UsageError('--apply asks for confirmation on a terminal, and standard input is not one: nothing was written. Read the dry run\'s table, then add --yes')
  }
  return { config, operator, account, campaign: values.campaign, json: values.json === true, apply, yes }
}

function instanceOf (config: Config, name: string | undefined): CampaignInstanceConfig {
  const names = [...config.campaigns.keys()].join(', ')
  if (name !== undefined) {
    const instance = config.campaigns.get(name)
    if (instance === undefined) throw new UsageError(`unknown Campaign instance '${name}': the configuration's instances are ${names}`)
    return instance
  }
  const fallback = config.defaultCampaign ?? (config.campaigns.size === 1 ? names : undefined)
  if (fallback === undefined) throw new UsageError(`the configuration has several Campaign instances (${names}) and no defaultCampaign: choose one with --campaign NAME`)
  return config.campaigns.get(fallback) as CampaignInstanceConfig
}

/** A Campaign fault's string and, when there is one, its detail (both bounded). */
function faultText (xml: string): string | undefined {
  const fault = faultString(xml)
  if (fault === undefined) return undefined
  const detail = childNamed(findElement(tryParse(xml), 'Fault') as XmlElement, 'detail')?.text.trim()
  return detail === undefined ? fault : `${fault} ${boundedMessage(detail)}`
}

const CAMPAIGN_DATE = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d(?:\.\d+)?)(Z|[+-]\d\d(?::?\d\d)?)?$/

/** A date as Campaign writes it (`2021-08-27 08:02:07.963-07`, `2026-11-23 09:00:00.000Z`), in ms; undefined when it is none. */
export function parseCampaignDate (value: string | undefined): number | undefined {
  const match = CAMPAIGN_DATE.exec(value ?? '')
  if (match === null) return undefined
  const [, day, time, zone = 'Z'] = match as unknown as [string, string, string, string | undefined]
  const offset = zone === 'Z' ? zone : `${zone.slice(0, 3)}:${zone.length > 3 ? zone.slice(-2) : '00'}`
  const ms = Date.parse(`${day}T${time}${offset}`)
  return Number.isNaN(ms) ? undefined : ms
}

/**
 * Whether Campaign created the operator during this run: its `@created`
 * is not before the instance's clock at `/r/test`, read just before the
 * first call with the token (1 s of tolerance for a creation date kept
 * to the second). null when either date is missing.
 */
export function createdDuringRun (serverDate: string | undefined, created: string | undefined): boolean | null {
  const before = parseCampaignDate(serverDate)
  const at = parseCampaignDate(created)
  return before === undefined || at === undefined ? null : at >= before - 1000
}

async function readLine (input: PasswordInput): Promise<string> {
  let text = ''
  for await (const chunk of input) {
    text += chunk.toString()
    const end = text.indexOf('\n')
    if (end !== -1) return text.slice(0, end)
  }
  return text
}

export async function auditRightsCommand (args: readonly string[], io: CommandIo): Promise<number> {
  if (args.includes('--help')) {
    io.stdout.write(AUDIT_RIGHTS_USAGE)
    return 0
  }
  const options = auditOptions(args, io.stdin?.isTTY === true)
  const config = await loadConfig(options.config, io.env)
  const account = config.technicalAccounts.get(options.account)
  if (account === undefined) {
    const names = [...config.technicalAccounts.keys()]
    throw new UsageError(`unknown technical account '${options.account}': technicalAccounts has ${names.length === 0 ? 'none' : names.join(', ')}`)
  }
  const instance = instanceOf(config, options.campaign)
  const out = io.stdout
  const stop = (kind: CheckKind, reason: string): number => {
    out.write(options.json ? errorJson(instance.name, account.name, kind, reason, AUDIT_EXIT[kind]) : `${reason}\n\naudit-rights: stopped before the comparison (exit ${AUDIT_EXIT[kind]})\n`)
    return AUDIT_EXIT[kind]
  }
  const transport = createUndiciTransport(config.ims)
  const pool = campaignPool(instance, 2)
  try {
    const token = await tokenOf(account, config, transport.requestToken, Date.now)
    if (!token.ok) return stop(token.kind, token.reason)
    const client = new CampaignClient(pool)
    // /r/test (the instance's clock), then GetUserInfo: the first call with the token, which makes Campaign create the operator.
    const checked = await checkOn(instance, account.name, token, client, Date.now)
    if (checked.kind !== 'ok') return stop(checked.kind, checked.reason as string)
    let result: AuditResult
    try {
      result = await audit(instance, account.name, options.operator, checked.operator as string, checked.serverDate, checked.fingerprint as string, token.token, client)
    } catch (err) {
      /* c8 ignore next -- audit throws only AuditFailure: anything else is a bug to surface */
      if (!(err instanceof AuditFailure)) throw err
      return stop(err.kind, err.message)
    }
    const human = options.json ? io.stderr : out
    if (!options.json) out.write(auditText(result))
    let apply: ApplyResult | undefined
    if (options.apply) {
      const missing = result.missing.folderPermissions
      human.write(planText(result))
      let confirmed = options.yes || missing.length === 0
      if (!confirmed) {
        human.write(`Write ${missing.length === 1 ? 'it' : `these ${missing.length}`} to Campaign ${instance.name}? [y/N] `)
        confirmed = /^\s*y(es)?\s*$/i.test(await readLine(io.stdin as PasswordInput))
      }
      apply = { confirmed, writes: confirmed ? await applyAll(result, token.token, client, instance) : [] }
      human.write(applyText(apply))
    }
    const failed = apply?.confirmed === true ? apply.writes.some(w => w.outcome !== 'written') : result.missing.folderPermissions.length > 0
    const code = failed || result.missing.namedRights.length > 0 ? AUDIT_EXIT.missing : AUDIT_EXIT.ok
    out.write(options.json ? auditJson(result, apply, code) : verdictText(result, apply, code))
    return code
  } finally {
    await Promise.allSettled([transport.close(), pool.close()])
  }
}

/** Reads both operators' access and compares them. Throws AuditFailure. */
async function audit (instance: CampaignInstanceConfig, account: string, legacyName: string, technicalName: string, serverDate: string | undefined, fingerprint: string, bearer: string, client: CampaignClient): Promise<AuditResult> {
  const single = instance.name === SINGLE_CAMPAIGN_NAME
  const who = single ? 'Campaign' : `Campaign instance ${instance.name}`
  const key = single ? 'campaign' : `campaigns.${instance.name}`
  try {
    xtkString(technicalName)
  } catch {
    throw new AuditFailure('campaignUnavailable', `${who} answered GetUserInfo with an unusable operator login (${boundedMessage(technicalName)}): is ${key}.url the Campaign instance?`)
  }
  const ask = async (queryDef: string, schema: string): Promise<XmlElement> => {
    let answer
    try {
      answer = await client.executeQuery(bearer, queryDef)
    } catch (err) {
      throw new AuditFailure('campaignUnavailable', `${who} could not be reached at ${instance.url} while reading ${schema} (${describe(err)}): try again later`)
    }
    const fault = faultText(answer.text)
    if (fault !== undefined) {
      throw new AuditFailure('campaignRefused', `${who} refused to read ${schema} for the technical account (HTTP ${answer.status}: ${fault}): its operator needs the right to read operators and folder permissions (the administration named right, through its product profile)`)
    }
    const collection = findElement(tryParse(answer.text), 'pdomOutput')?.children[0]
    if (answer.status !== 200 || collection === undefined) {
      throw new AuditFailure('campaignUnavailable', `${who} answered xtk:queryDef#ExecuteQuery on ${schema} with HTTP ${answer.status} and no query result: try again later, or check ${key}.url`)
    }
    return collection
  }
  const access = async (row: OperatorRow): Promise<OperatorAccess> => ({
    name: row.name,
    id: row.id,
    label: row.label,
    namedRights: row.namedRights,
    groups: readGroups(await ask(groupsQuery(row.name), 'xtk:operatorGroup')),
    folderPermissions: readFolderPermissions(await ask(folderPermissionsQuery(row.name), 'xtk:rights')),
  })
  const legacyRow = readOperator(await ask(operatorQuery(legacyName), 'xtk:operator'))
  if (legacyRow === undefined) {
    throw new AuditFailure('config', `${who} has no operator named '${legacyName}': give --operator the login of the legacy technical operator (Administration > Access Management > Operators; an operator group is not an operator)`)
  }
  const technicalRow = readOperator(await ask(operatorQuery(technicalName), 'xtk:operator'))
  if (technicalRow === undefined) {
    throw new AuditFailure('campaignUnavailable', `${who} answered GetUserInfo as '${technicalName}' but has no operator of that name: try again later`)
  }
  const legacy = await access(legacyRow)
  const technical = { ...await access(technicalRow), createdByThisRun: createdDuringRun(serverDate, technicalRow.created) }
  return { campaign: instance.name, campaignUrl: instance.url, account, fingerprint, legacy, technical, missing: missingAccess(legacy, technical) }
}

/** Writes each missing folder permission (the union of both operators' rights), reporting each result. */
async function applyAll (result: AuditResult, bearer: string, client: CampaignClient, instance: CampaignInstanceConfig): Promise<WriteResult[]> {
  const writes: WriteResult[] = []
  for (const permission of result.missing.folderPermissions) {
    const doc = folderPermissionWrite({ folder: permission.folder, operator: result.technical.name, rights: permission.grant.rights, propagate: permission.grant.propagate })
    try {
      const answer = await client.write(bearer, doc)
      const fault = faultText(answer.text)
      if (fault !== undefined) writes.push({ permission, outcome: 'refused', reason: `HTTP ${answer.status}: ${fault}` })
      else if (answer.status !== 200) writes.push({ permission, outcome: 'failed', reason: `HTTP ${answer.status} without a SOAP answer` })
      else writes.push({ permission, outcome: 'written' })
    } catch (err) {
      writes.push({ permission, outcome: 'failed', reason: `${instance.url} could not be reached (${describe(err)})` })
    }
  }
  return writes
}
