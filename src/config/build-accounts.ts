/**
 * The `technicalAccounts` section, and the references other sections make
 * to its accounts (`wsdl.technicalAccount`, `integrations[].technicalAccount`);
 * docs/configuration.md, Technical accounts and Callers and WSDL.
 */
import { type BuildContext, list, optionalText, record, text } from './build-context.js'
import type { Path } from './problems.js'
import { NAME_PATTERN } from './schema.js'
import type { Config, SecretSource, TechnicalAccountConfig } from './types.js'

export const NAME_RULE = 'must start with a letter or digit and hold only letters, digits, ".", "_" and "-"'
/** Stands in for a secret the schema refused; never returned, as a problem is then thrown. */
const MISSING_SECRET: SecretSource = { kind: 'value', value: '' }

export type Accounts = ReadonlyMap<string, TechnicalAccountConfig>

export function buildTechnicalAccounts (data: unknown, ctx: BuildContext): Map<string, TechnicalAccountConfig> {
  const accounts = new Map<string, TechnicalAccountConfig>()
  for (const [name, value] of Object.entries(record(data))) {
    const path = ['technicalAccounts', name]
    if (!NAME_PATTERN.test(name)) ctx.report(path, `is not a valid technical account name: it ${NAME_RULE}`)
    const account = record(value)
    accounts.set(name, {
      name,
      clientId: text(account.clientId) ?? '',
      clientSecret: ctx.secretOf(account.clientSecret, [...path, 'clientSecret']) ?? MISSING_SECRET,
      scopes: list(account.scopes).filter(scope => typeof scope === 'string'),
    })
  }
  return accounts
}

/** Reports `name` (when given) at `path` unless it is one of `accounts`. */
export function checkAccountReference (accounts: Accounts, name: string | undefined, path: Path, ctx: BuildContext): void {
  if (name !== undefined && !accounts.has(name)) {
    ctx.report(path, `names technical account "${name}", which is not defined in technicalAccounts`)
  }
}

export function buildWsdl (data: unknown, accounts: Accounts, ctx: BuildContext): Config['wsdl'] {
  const technicalAccount = optionalText(record(data).technicalAccount)
  checkAccountReference(accounts, technicalAccount, ['wsdl', 'technicalAccount'], ctx)
  return { technicalAccount }
}
