/**
 * Which technical accounts each Campaign instance is called with
 * (docs/configuration.md#several-campaign-instances): an integration's
 * `technicalAccount` given as one name is used on every instance, a map
 * names its (instance, account) pairs, and `wsdl.technicalAccount` is used
 * on every instance. Read by `check` and `/readyz`.
 */
import type { Config } from './types.js'

export type AccountUses = ReadonlyMap<string, readonly string[]>

/** Instance name → the accounts used on it, instances and accounts in document order. */
export function accountsByInstance (config: Pick<Config, 'campaigns' | 'technicalAccounts' | 'integrations' | 'wsdl'>): AccountUses {
  const everywhere = new Set<string>()
  const pairs = new Set<string>()
  for (const { technicalAccount } of config.integrations) {
    if (typeof technicalAccount === 'string') everywhere.add(technicalAccount)
    else if (technicalAccount !== undefined) for (const [instance, account] of technicalAccount) pairs.add(`${instance}\n${account}`)
  }
  if (config.wsdl.technicalAccount !== undefined) everywhere.add(config.wsdl.technicalAccount)
  const uses = new Map<string, readonly string[]>()
  for (const instance of config.campaigns.keys()) {
    uses.set(instance, [...config.technicalAccounts.keys()].filter(account => everywhere.has(account) || pairs.has(`${instance}\n${account}`)))
  }
  return uses
}
