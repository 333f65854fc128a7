/**
 * What the legacy operator has directly that the technical account's
 * operator lacks (docs/audit-rights.md): folder permissions (a folder the
 * technical operator has with fewer rights, or without propagation, lacks
 * the difference) and named rights. Groups are not compared: Adobe
 * migrates operator groups to product profiles.
 */
import { sortRights, type FolderPermission } from './queries.js'

export interface MissingFolderPermission {
  readonly folder: string
  readonly fullName: string
  /** The rights the technical operator lacks on the folder. */
  readonly rights: readonly string[]
  /** The legacy operator's permission propagates to sub-folders and the technical operator's does not. */
  readonly propagate: boolean
  readonly legacy: FolderPermission
  readonly technical: FolderPermission | undefined
  /** What to write: the union of both operators' rights, propagating if either does. */
  readonly grant: { readonly rights: readonly string[], readonly propagate: boolean }
}

export interface MissingAccess {
  readonly folderPermissions: readonly MissingFolderPermission[]
  readonly namedRights: readonly string[]
}

export function missingAccess (
  legacy: { readonly folderPermissions: readonly FolderPermission[], readonly namedRights: readonly string[] },
  technical: { readonly folderPermissions: readonly FolderPermission[], readonly namedRights: readonly string[] }
): MissingAccess {
  const folderPermissions: MissingFolderPermission[] = []
  for (const permission of legacy.folderPermissions) {
    const held = technical.folderPermissions.find(p => p.folder === permission.folder)
    const rights = permission.rights.filter(r => held?.rights.includes(r) !== true)
    const propagate = permission.propagate && held?.propagate !== true
    if (rights.length === 0 && !propagate) continue
    folderPermissions.push({
      folder: permission.folder,
      fullName: permission.fullName,
      rights,
      propagate,
      legacy: permission,
      technical: held,
      grant: { rights: sortRights([...(held?.rights ?? []), ...permission.rights]), propagate: permission.propagate || held?.propagate === true },
    })
  }
  return { folderPermissions, namedRights: legacy.namedRights.filter(r => !technical.namedRights.includes(r)) }
}
