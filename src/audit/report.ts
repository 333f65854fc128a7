/**
 * The output of `audit-rights`: the table people read, and the JSON
 * document scripts read (its keys are documented in
 * docs/audit-rights.md#json-output and kept stable: new keys may be
 * added, none is renamed or removed without a new `version`).
 */
import type { MissingAccess, MissingFolderPermission } from './compare.js'
import type { FolderPermission } from './queries.js'

export interface OperatorAccess {
  readonly name: string
  readonly id: string
  readonly label: string
  readonly namedRights: readonly string[]
  readonly groups: readonly string[]
  readonly folderPermissions: readonly FolderPermission[]
}

export interface AuditResult {
  readonly campaign: string
  readonly campaignUrl: string
  readonly account: string
  /** The token's fingerprint (never the token). */
  readonly fingerprint: string
  readonly legacy: OperatorAccess
  /** `createdByThisRun`: Campaign created the operator during this run (null: Campaign's answers do not say). */
  readonly technical: OperatorAccess & { readonly createdByThisRun: boolean | null }
  readonly missing: MissingAccess
}

export interface WriteResult {
  readonly permission: MissingFolderPermission
  /** written; refused: Campaign answered a SOAP fault; failed: no usable answer. */
  readonly outcome: 'written' | 'refused' | 'failed'
  readonly reason?: string
}

export interface ApplyResult {
  readonly confirmed: boolean
  readonly writes: readonly WriteResult[]
}

export const JSON_VERSION = 1

function cells (permission: FolderPermission | undefined): string {
  if (permission === undefined) return '-'
  const rights = permission.rights.length === 0 ? '(no rights)' : permission.rights.join('|')
  return permission.propagate ? `${rights} (propagate)` : rights
}

function missingCell (missing: MissingFolderPermission): string {
  return [...(missing.rights.length === 0 ? [] : [missing.rights.join('|')]), ...(missing.propagate ? ['propagate'] : [])].join(' + ')
}

function columns (rows: readonly (readonly string[])[]): string {
  const widths = (rows[0] as readonly string[]).map((_, i) => Math.max(...rows.map(row => (row[i] as string).length)))
  return rows.map(row => row.map((cell, i) => cell.padEnd(widths[i] as number)).join('  ').trimEnd()).join('\n') + '\n'
}

function created (value: boolean | null): string {
  if (value === null) return 'whether this call created it is unknown (no creation date in Campaign\'s answers)'
  return value ? 'created by this call (Campaign creates it on the technical account\'s first call)' : 'existed before this call'
}

function count (n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`
}

/** The audit as a table: who is compared, what is missing, the groups of both. */
export function auditText (result: AuditResult): string {
  const { legacy, technical, missing } = result
  const label = (o: OperatorAccess): string => o.label === '' || o.label === o.name ? '' : `, "${o.label}"`
  let text = `Campaign ${result.campaign} (${result.campaignUrl}), technical account ${result.account} (token ${result.fingerprint})\n` +
    `  legacy operator     ${legacy.name} (id ${legacy.id}${label(legacy)})\n` +
    `  technical operator  ${technical.name} (id ${technical.id}${label(technical)}): ${created(technical.createdByThisRun)}\n\n`
  if (missing.folderPermissions.length === 0 && missing.namedRights.length === 0) {
    text += `${technical.name} has every folder permission and named right granted directly to ${legacy.name}.\n`
  } else {
    text += `Granted directly to ${legacy.name}, missing on ${technical.name}:\n\n`
    const rows = [['kind', 'folder or right', 'legacy operator', 'technical operator', 'missing']]
    for (const m of missing.folderPermissions) rows.push(['folder', m.fullName, cells(m.legacy), cells(m.technical), missingCell(m)])
    for (const right of missing.namedRights) rows.push(['named right', right, 'granted', '-', right])
    text += columns(rows)
  }
  const groups = (o: OperatorAccess): string => o.groups.length === 0 ? '(none)' : o.groups.join(', ')
  text += '\nGroups (for information, not compared: Adobe migrates operator groups to product profiles):\n' +
    columns([[`  ${legacy.name}`, groups(legacy)], [`  ${technical.name}`, groups(technical)]])
  return text
}

/** What --apply writes. */
export function planText (result: AuditResult): string {
  const lines = result.missing.folderPermissions.map(m =>
    `  grant ${m.grant.rights.join('|')}${m.grant.propagate ? ' (propagate)' : ''} on ${m.fullName} (${m.folder}) to ${result.technical.name}\n`)
  const rights = result.missing.namedRights.length === 0 ? '' : `Named rights are not written (${result.missing.namedRights.join(', ')}): grant them through the technical account's product profile.\n`
  return `\n--apply writes ${count(lines.length, 'folder permission')} with xtk:session#Write (xtk:rights):\n${lines.join('')}${rights}`
}

export function applyText (apply: ApplyResult): string {
  if (!apply.confirmed) return 'Not confirmed: nothing was written.\n'
  return apply.writes.map(w => {
    const what = `${w.permission.grant.rights.join('|')} on ${w.permission.fullName}`
    return w.outcome === 'written' ? `  written  ${what}\n` : `  ${w.outcome.toUpperCase()}  ${what}: ${w.reason as string}\n`
  }).join('')
}

/** The last line: the verdict and the exit code. */
export function verdictText (result: AuditResult, apply: ApplyResult | undefined, exitCode: number): string {
  const { folderPermissions, namedRights } = result.missing
  const failed = apply?.writes.filter(w => w.outcome !== 'written').length ?? 0
  const written = (apply?.writes.length ?? 0) - failed
  if (folderPermissions.length === 0 && namedRights.length === 0) return `\naudit-rights: nothing is missing (exit ${exitCode})\n`
  const parts = apply === undefined || !apply.confirmed
    ? [`${count(folderPermissions.length, 'folder permission')} and ${count(namedRights.length, 'named right')} missing`]
    : [`${written} of ${count(folderPermissions.length, 'folder permission')} written`, ...(failed === 0 ? [] : [`${failed} refused or failed`]), `${count(namedRights.length, 'named right')} missing (not written)`]
  const hint = apply === undefined && folderPermissions.length > 0 ? '; --apply writes the folder permissions' : ''
  const rights = namedRights.length > 0 ? '; named rights are granted through product profiles, not by this command' : ''
  return `\naudit-rights: ${parts.join(', ')} (exit ${exitCode})${hint}${rights}\n`
}

function permissionJson (p: FolderPermission): object {
  return { folder: p.folder, fullName: p.fullName, rights: p.rights, propagate: p.propagate }
}

function operatorJson (o: OperatorAccess): object {
  return { name: o.name, id: o.id, label: o.label, namedRights: o.namedRights, groups: o.groups, folderPermissions: o.folderPermissions.map(permissionJson) }
}

/** The audit (and what --apply did) as one JSON document (docs/audit-rights.md#json-output). */
export function auditJson (result: AuditResult, apply: ApplyResult | undefined, exitCode: number): string {
  return JSON.stringify({
    version: JSON_VERSION,
    campaign: result.campaign,
    account: result.account,
    legacyOperator: operatorJson(result.legacy),
    technicalOperator: { ...operatorJson(result.technical), createdByThisRun: result.technical.createdByThisRun },
    missing: {
      folderPermissions: result.missing.folderPermissions.map(m => ({
        folder: m.folder,
        fullName: m.fullName,
        rights: m.rights,
        propagate: m.propagate,
        legacyRights: m.legacy.rights,
        technicalRights: m.technical?.rights ?? [],
        grant: { rights: m.grant.rights, propagate: m.grant.propagate },
      })),
      namedRights: result.missing.namedRights,
    },
    apply: apply === undefined
      ? null
      : {
          confirmed: apply.confirmed,
          writes: apply.writes.map(w => ({
            folder: w.permission.folder,
            fullName: w.permission.fullName,
            rights: w.permission.grant.rights,
            propagate: w.permission.grant.propagate,
            result: w.outcome,
            ...(w.reason === undefined ? {} : { reason: w.reason }),
          })),
        },
    exitCode,
  }, null, 2) + '\n'
}

/** A run that stopped before the comparison, as JSON. */
export function errorJson (campaign: string, account: string, kind: string, reason: string, exitCode: number): string {
  return JSON.stringify({ version: JSON_VERSION, campaign, account, error: { kind, reason }, exitCode }, null, 2) + '\n'
}
