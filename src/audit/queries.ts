/**
 * What `audit-rights` asks Campaign, and how it reads the answers
 * (docs/audit-rights.md#what-is-read-and-written): `xtk:queryDef` documents
 * on `xtk:operator`, `xtk:operatorGroup` and `xtk:rights`, and the
 * `xtk:rights` entity `xtk:session#Write` receives.
 *
 * Every value put into a condition is an XTK string literal, escaped as
 * Campaign's own `escapeXtk` does (`\` and `'` preceded by `\`,
 * https://opensource.adobe.com/acc-js-sdk/escaping.html); control
 * characters are refused. Every document is built with XML escaping.
 */
import { escapeXml, xmlAttributes } from '../soap/xml.js'
import { childNamed, type XmlElement } from '../soap/xml-tree.js'

export class XtkValueError extends Error {
  override name = 'XtkValueError'
}

/** C0 and C1 control characters and DEL (a login never holds one; a condition must not). */
function hasControl (value: string): boolean {
  for (const char of value) {
    const code = char.charCodeAt(0)
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true
  }
  return false
}

/** A value as an XTK string literal: quoted, `\` and `'` escaped; empty values and control characters refused. */
export function xtkString (value: string): string {
  if (value === '' || hasControl(value)) throw new XtkValueError(`${JSON.stringify(value)} is not a usable name (empty, or holding control characters)`)
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

function queryDef (schema: string, nodes: readonly string[], conditions: readonly string[]): string {
  const select = nodes.map(expr => `<node expr="${escapeXml(expr)}"/>`).join('')
  const where = conditions.map(expr => `<condition expr="${escapeXml(expr)}"/>`).join('')
  return `<queryDef schema="${schema}" operation="select"><select>${select}</select><where>${where}</where></queryDef>`
}

/** The operator (`@type` 0) named `name`, with its named rights (its `rights` element). */
export function operatorQuery (name: string): string {
  return queryDef('xtk:operator', ['@id', '@name', '@type', '@label', '@created', 'rights'], [`@name = ${xtkString(name)}`, '@type = 0'])
}

/** The groups `name` is a member of. */
export function groupsQuery (name: string): string {
  return queryDef('xtk:operatorGroup', ['[group/@name]'], [`[operator/@name] = ${xtkString(name)}`])
}

/** The folder permissions granted to `name` itself (a group's are granted to the group). */
export function folderPermissionsQuery (name: string): string {
  return queryDef('xtk:rights', ['@rights', '@propagate', '[folder/@fullName]', '[folder/@name]'], [`[operator/@name] = ${xtkString(name)}`])
}

/** The `xtk:rights` entity that grants `rights` on `folder` to `operator` (insertOrUpdate: Campaign keys it by folder and operator). */
export function folderPermissionWrite (grant: { readonly folder: string, readonly operator: string, readonly rights: readonly string[], readonly propagate: boolean }): string {
  const attributes = xmlAttributes({ xtkschema: 'xtk:rights', _operation: 'insertOrUpdate', rights: grant.rights.join('|'), propagate: grant.propagate ? 1 : 0 })
  return `<rights${attributes}><folder${xmlAttributes({ name: grant.folder })}/><operator${xmlAttributes({ name: grant.operator })}/></rights>`
}

/** Folder permissions in Campaign's order; other values Campaign may hold follow, as they came. */
const RIGHTS_ORDER = ['read', 'write', 'delete']

export function sortRights (rights: Iterable<string>): string[] {
  const unique = [...new Set(rights)]
  return [...RIGHTS_ORDER.filter(r => unique.includes(r)), ...unique.filter(r => !RIGHTS_ORDER.includes(r))]
}

/** `read|write` → [read, write]. */
export function parseRights (value: string | undefined): string[] {
  return sortRights((value ?? '').split('|').map(part => part.trim()).filter(part => part !== ''))
}

export interface OperatorRow {
  readonly id: string
  readonly name: string
  readonly label: string
  readonly created: string | undefined
  readonly namedRights: readonly string[]
}

export interface FolderPermission {
  readonly folder: string
  readonly fullName: string
  readonly rights: readonly string[]
  readonly propagate: boolean
}

/** The first row of an `xtk:operator` answer (the `<pdomOutput>`'s collection), or undefined when there is none. */
export function readOperator (collection: XmlElement): OperatorRow | undefined {
  const row = collection.children[0]
  if (row === undefined) return undefined
  const rights = childNamed(row, 'rights')?.children.filter(c => c.local === 'right').map(c => c.attrs.name ?? '').filter(n => n !== '') ?? []
  return { id: row.attrs.id ?? '', name: row.attrs.name ?? '', label: row.attrs.label ?? '', created: row.attrs.created, namedRights: [...new Set(rights)].sort() }
}

/** The group names of an `xtk:operatorGroup` answer. */
export function readGroups (collection: XmlElement): string[] {
  return [...new Set(collection.children.map(row => childNamed(row, 'group')?.attrs.name ?? '').filter(n => n !== ''))].sort()
}

/** The folder permissions of an `xtk:rights` answer; a row without its folder is left out; two rows of one folder are merged. */
export function readFolderPermissions (collection: XmlElement): FolderPermission[] {
  const byFolder = new Map<string, FolderPermission>()
  for (const row of collection.children) {
    const folder = childNamed(row, 'folder')
    const name = folder?.attrs.name
    if (name === undefined || name === '') continue
    const known = byFolder.get(name)
    byFolder.set(name, {
      folder: name,
      fullName: (folder as XmlElement).attrs.fullName ?? known?.fullName ?? name,
      rights: sortRights([...(known?.rights ?? []), ...parseRights(row.attrs.rights)]),
      propagate: row.attrs.propagate === '1' || row.attrs.propagate === 'true' || known?.propagate === true,
    })
  }
  return [...byFolder.values()].sort((a, b) => a.fullName.localeCompare(b.fullName))
}
