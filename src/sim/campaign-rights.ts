/**
 * The Campaign simulator's access management, as `audit-rights` reads and
 * writes it (docs/simulators.md#folder-permissions-and-named-rights):
 * operator groups (`xtk:operator` rows of `@type` 1), memberships
 * (`xtk:operatorGroup`, links `operator` and `group`), folders
 * (`xtk:folder`: `@name`, `@fullName`, `@label`) and folder permissions
 * (`xtk:rights`: `@rights` such as `read|write`, `@propagate`, links
 * `folder` and `operator`). Named rights of an operator are answered as
 * its `rights` element (`<rights><right name="..."/></rights>`).
 *
 * Everything lives in the simulator's bounded CampaignStore.
 */
import { campaignTimestamp, xmlAttributes } from '../soap/xml.js'
import { childNamed, type XmlElement } from '../soap/xml-tree.js'
import type { CampaignOperator } from './campaign.js'
import { QueryError, type CampaignStore, type Row } from './campaign-store.js'

/** The folder permissions Campaign grants, in the order it lists them. */
export const FOLDER_RIGHTS = ['read', 'write', 'delete'] as const
export type FolderRight = typeof FOLDER_RIGHTS[number]

/** The links of the access-management schemas (`<link>-id` holds the linked row's id). */
export const ACCESS_LINKS = {
  'xtk:operatorGroup': { operator: 'xtk:operator', group: 'xtk:operator' },
  'xtk:rights': { folder: 'xtk:folder', operator: 'xtk:operator' },
} as const

export interface FolderSeed {
  /** The internal name, what a Write's `<folder name="..."/>` refers to. */
  readonly name: string
  /** The path shown in the explorer, e.g. `/Administration/Configuration/`. */
  readonly fullName: string
  readonly label?: string
  /** Writes of this folder's permissions are refused with a SOAP fault (to rehearse a refusal). */
  readonly refusePermissionWrites?: boolean
}

export interface GroupSeed {
  readonly name: string
  readonly label?: string
  /** Named rights the group grants (its members do not have them directly). */
  readonly rights?: readonly string[]
}

export interface FolderPermissionSeed {
  readonly folder: string
  /** An operator's login or a group's name. */
  readonly operator: string
  readonly rights: readonly FolderRight[]
  readonly propagate?: boolean
}

/** What `CampaignSimulator.seedAccess` (and the `access` option) adds. */
export interface AccessSeed {
  /** Operators to add (an operator whose login exists already is kept as it is). */
  readonly operators?: readonly CampaignOperator[]
  readonly groups?: readonly GroupSeed[]
  readonly folders?: readonly FolderSeed[]
  readonly memberships?: readonly { readonly operator: string, readonly group: string }[]
  readonly folderPermissions?: readonly FolderPermissionSeed[]
}

/** A folder permission as the store holds it, joined with its folder. */
export interface FolderPermission {
  readonly folder: string
  readonly fullName: string
  readonly rights: readonly FolderRight[]
  readonly propagate: boolean
}

/** `{ created }` in Campaign's format, or nothing when the clock is beyond the Date range (a test's clock). */
export function creationDate (ms: number): Row {
  return Number.isNaN(new Date(ms).getTime()) ? {} : { created: campaignTimestamp(ms) }
}

/** `read|write` → [read, write] in Campaign's order (`''`: none); anything else is refused. */
export function parseFolderRights (value: string): FolderRight[] {
  const parts = value.split('|').map(part => part.trim()).filter(part => part !== '')
  if (!parts.every(part => (FOLDER_RIGHTS as readonly string[]).includes(part))) {
    throw new QueryError(`invalid rights '${value}': one or more of read, write and delete, separated by |`)
  }
  return FOLDER_RIGHTS.filter(right => parts.includes(right))
}

export class AccessModel {
  readonly #store: CampaignStore
  readonly #now: () => number
  readonly #groupRights = new Map<string, readonly string[]>()
  readonly #refused = new Set<string>()

  constructor (store: CampaignStore, now: () => number) {
    this.#store = store
    this.#now = now
  }

  /** The named rights a group grants, or undefined when `name` is no group. */
  groupRights (name: string): readonly string[] | undefined {
    return this.#groupRights.get(name)
  }

  /** Adds groups, folders, memberships and folder permissions; a seed naming what does not exist is a programming error. */
  seed (seed: Omit<AccessSeed, 'operators'>): void {
    for (const group of seed.groups ?? []) {
      if (this.#principal(group.name) !== undefined) throw new Error(`cannot seed group '${group.name}': an operator or group has that name`)
      this.#store.insert('xtk:operator', { name: group.name, label: group.label ?? group.name, type: '1', ...creationDate(this.#now()) })
      this.#groupRights.set(group.name, group.rights ?? [])
    }
    for (const folder of seed.folders ?? []) {
      if (this.#folder(folder.name) !== undefined) throw new Error(`cannot seed folder '${folder.name}': it exists`)
      this.#store.insert('xtk:folder', { name: folder.name, fullName: folder.fullName, label: folder.label ?? folder.name })
      if (folder.refusePermissionWrites === true) this.#refused.add(folder.name)
    }
    for (const { operator, group } of seed.memberships ?? []) {
      const member = this.#principal(operator)
      const target = this.#principal(group)
      if (member?.type !== '0') throw new Error(`cannot seed membership: no operator '${operator}'`)
      if (target?.type !== '1') throw new Error(`cannot seed membership: no group '${group}'`)
      this.#store.upsert('xtk:operatorGroup', { 'operator-id': member.id as string, 'group-id': target.id as string }, {})
    }
    for (const permission of seed.folderPermissions ?? []) {
      const folder = this.#folder(permission.folder)
      const principal = this.#principal(permission.operator)
      if (folder === undefined) throw new Error(`cannot seed folder permission: no folder '${permission.folder}'`)
      if (principal === undefined) throw new Error(`cannot seed folder permission: no operator or group '${permission.operator}'`)
      this.#grant(folder, principal, FOLDER_RIGHTS.filter(right => permission.rights.includes(right)), permission.propagate ?? false)
    }
  }

  /**
   * `xtk:session#Write` of an `xtk:rights` entity: `_operation`
   * insertOrUpdate (the default), keyed by its folder and operator links,
   * each given by `name`. Refusals are QueryErrors, answered as SOP-330011.
   */
  write (doc: XmlElement): void {
    const operation = doc.attrs._operation ?? 'insertOrUpdate'
    if (operation !== 'insertOrUpdate') throw new QueryError(`the simulator writes xtk:rights with _operation insertOrUpdate only, not '${operation}'`)
    const folder = this.#linked(doc, 'folder', name => this.#folder(name))
    const principal = this.#linked(doc, 'operator', name => this.#principal(name))
    const rights = parseFolderRights(doc.attrs.rights ?? '')
    if (this.#refused.has(folder.name as string)) {
      throw new QueryError(`SIM-000002 The permissions of folder '${folder.fullName as string}' cannot be changed (a folder seeded with refusePermissionWrites).`)
    }
    this.#grant(folder, principal, rights, doc.attrs.propagate === '1' || doc.attrs.propagate === 'true')
  }

  /** The folder permissions granted to `name` itself (not through its groups). */
  folderPermissions (name: string): FolderPermission[] {
    const principal = this.#principal(name)
    return this.#store.rows('xtk:rights').filter(row => row['operator-id'] === principal?.id).map(row => {
      const folder = this.#store.rows('xtk:folder').find(f => f.id === row['folder-id']) as Row
      return { folder: folder.name as string, fullName: folder.fullName as string, rights: parseFolderRights(row.rights as string), propagate: row.propagate === '1' }
    })
  }

  /** The names of the groups `name` is a member of. */
  groupsOf (name: string): string[] {
    const member = this.#principal(name)
    return this.#store.rows('xtk:operatorGroup').filter(row => row['operator-id'] === member?.id)
      .map(row => (this.#store.rows('xtk:operator').find(g => g.id === row['group-id']) as Row).name as string)
  }

  #linked (doc: XmlElement, link: 'folder' | 'operator', find: (name: string) => Row | undefined): Row {
    const name = childNamed(doc, link)?.attrs.name
    if (name === undefined) throw new QueryError(`an xtk:rights entity needs its ${link} link as <${link} name="..."/>`)
    const row = find(name)
    if (row === undefined) throw new QueryError(`no ${link === 'folder' ? 'xtk:folder' : 'xtk:operator'} record has @name '${name}' (link '${link}' of xtk:rights)`)
    return row
  }

  #grant (folder: Row, principal: Row, rights: readonly FolderRight[], propagate: boolean): void {
    this.#store.upsert('xtk:rights', { 'folder-id': folder.id as string, 'operator-id': principal.id as string }, { rights: rights.join('|'), propagate: propagate ? '1' : '0' })
  }

  #principal (name: string): Row | undefined {
    return this.#store.rows('xtk:operator').find(row => row.name === name)
  }

  #folder (name: string): Row | undefined {
    return this.#store.rows('xtk:folder').find(row => row.name === name)
  }
}

/** An operator's named rights as its `rights` element. */
export function namedRightsXml (rights: readonly string[]): string {
  return `<rights>${rights.map(right => `<right${xmlAttributes({ name: right })}/>`).join('')}</rights>`
}
