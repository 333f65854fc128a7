/**
 * `campaign-ims-proxy simulate`: the IMS simulator and one or several
 * Campaign simulators in one process, configured from flags and/or a YAML
 * file, for users rehearsing a migration and for the compose file.
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { parse as parseYaml } from 'yaml'
import { CampaignSimulator, DEFAULT_OPERATORS, MESSAGE_CENTER_OPERATOR, type CampaignOperator } from './campaign.js'
import type { AccessSeed } from './campaign-rights.js'
import { DEFAULT_IMS_EXPIRES_IN_SECONDS, ImsSimulator, type ImsClientRegistration } from './ims.js'
import { TokenAuthority } from './ims-tokens.js'
import { UsageError } from '../usage-error.js'

export const SIMULATE_DEFAULTS = {
  host: '127.0.0.1',
  imsPort: 8081,
  campaignPort: 8082,
  /** The scopes a Campaign technical account's credential lists in the Developer Console. */
  scopes: ['AdobeID', 'openid', 'read_organizations', 'additional_info.projectedProductContext', 'additional_info.roles', 'campaign_sdk'],
  client: { clientId: 'demo-client-id', secret: 'demo-client-secret' },
} as const

/**
 * Seeded in every instance `simulate` and `demo` run, so that
 * `audit-rights --operator mc` has a legacy operator to audit
 * (docs/simulators.md#folder-permissions-and-named-rights): the Message
 * Center operator `mc` (added when the operators leave it out) with folder
 * permissions of its own on 2 folders and its named right `messageCenter`,
 * and a group it is a member of, which has a permission of its own.
 */
export const DEFAULT_ACCESS: AccessSeed = {
  operators: [MESSAGE_CENTER_OPERATOR],
  groups: [{ name: 'messageCenterAgents', label: 'Message Center agents' }],
  folders: [
    { name: 'administration', fullName: '/Administration/', label: 'Administration' },
    { name: 'configuration', fullName: '/Administration/Configuration/', label: 'Configuration' },
    { name: 'messageCenter', fullName: '/Message Center/', label: 'Message Center' },
    { name: 'rtEvents', fullName: '/Message Center/Real-time events/', label: 'Real-time events' },
    { name: 'transactionalTemplates', fullName: '/Message Center/Transactional message templates/', label: 'Transactional message templates' },
  ],
  memberships: [{ operator: MESSAGE_CENTER_OPERATOR.login, group: 'messageCenterAgents' }],
  folderPermissions: [
    { folder: 'rtEvents', operator: MESSAGE_CENTER_OPERATOR.login, rights: ['read', 'write', 'delete'], propagate: true },
    { folder: 'transactionalTemplates', operator: MESSAGE_CENTER_OPERATOR.login, rights: ['read', 'write'] },
    { folder: 'messageCenter', operator: 'messageCenterAgents', rights: ['read'], propagate: true },
  ],
}

export interface SimulatedCampaignSettings {
  readonly port: number
  readonly imsMandatory: boolean
  readonly allowUserPassword: boolean
  readonly strict: boolean
  readonly faultStatus: 200 | 500
  readonly operators: readonly CampaignOperator[]
  /** The IMS clients whose tokens this instance accepts (its product profile); default every client. */
  readonly allowedClients?: readonly string[]
  /** Groups, folders and folder permissions to seed (`simulate`: DEFAULT_ACCESS). */
  readonly access?: AccessSeed
}

/** One of several named Campaign instances; its name is also its `instanceName` (in `/r/test`). */
export interface SimulatedCampaign extends SimulatedCampaignSettings {
  readonly name: string
}

export interface SimulateConfig {
  readonly host: string
  readonly ims: { readonly port: number, readonly expiresInSeconds: number, readonly clients: readonly ImsClientRegistration[] }
  /** The single instance; with `campaigns`, the settings every instance starts from (its port unused). */
  readonly campaign: SimulatedCampaignSettings
  /** Several named instances instead of the single one. */
  readonly campaigns?: readonly SimulatedCampaign[]
}

/** The name of the single instance in `RunningSimulators.campaigns`. */
export const SINGLE_CAMPAIGN_NAME = 'default'
const INSTANCE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/

export const SIMULATE_USAGE = `Usage: campaign-ims-proxy simulate [options]

Runs the Adobe IMS and Adobe Campaign simulators until SIGINT/SIGTERM.

Options (flags override the file):
  --config FILE              YAML file (keys: host, ims.{port,expiresInSeconds,clients},
                             campaign.{port,imsMandatory,allowUserPassword,strict,faultStatus,operators},
                             campaigns.<name>.{port,allowedClients, and the keys of campaign})
  --host ADDRESS             listen address of all (default ${SIMULATE_DEFAULTS.host})
  --ims-port PORT            IMS port (default ${SIMULATE_DEFAULTS.imsPort}; 0 picks a free port)
  --campaign-port PORT       Campaign port of the single instance (default ${SIMULATE_DEFAULTS.campaignPort})
  --campaign NAME:PORT[:CLIENT,...]
                             a named Campaign instance instead (repeatable), accepting
                             only the listed IMS clients' tokens (default: every client)
  --expires-in SECONDS       lifetime of issued IMS tokens (default ${DEFAULT_IMS_EXPIRES_IN_SECONDS})
  --client ID:SECRET         register an IMS client (repeatable; all default scopes allowed)
  --no-ims-mandatory         let technical operators log on natively (default: refused, as Campaign v8.6)
  --no-allow-user-password   refuse inline login/password session tokens (default: allowed)
  --strict                   fault bearer requests that still carry legacy credentials
  --fault-status 200|500     HTTP status of SOAP faults (default 500)
`

/** Builds the configuration from command-line arguments (and the YAML file they name). */
export async function simulateConfig (args: readonly string[]): Promise<SimulateConfig> {
  let parsed
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string' },
        host: { type: 'string' },
        'ims-port': { type: 'string' },
        'campaign-port': { type: 'string' },
        campaign: { type: 'string', multiple: true },
        'expires-in': { type: 'string' },
        client: { type: 'string', multiple: true },
        'no-ims-mandatory': { type: 'boolean' },
        'no-allow-user-password': { type: 'boolean' },
        strict: { type: 'boolean' },
        'fault-status': { type: 'string' },
      },
    })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const flags = parsed.values
  const file = flags.config === undefined ? {} : await readYamlObject(flags.config)
  const problems: string[] = []
  const section = (name: string): Record<string, unknown> => {
    const value = file[name] ?? {}
    if (!isRecord(value)) {
      problems.push(`${name}: must be a mapping`)
      return {}
    }
    return value
  }
  const ims = section('ims')
  const campaign = section('campaign')
  const port = (path: string, flag: string | undefined, fromFile: unknown, fallback: number): number =>
    integer(problems, path, flag ?? fromFile ?? fallback, 0, 65_535)
  const flagClients = (flags.client ?? []).map((spec): ImsClientRegistration => {
    const colon = spec.indexOf(':')
    if (colon <= 0 || colon === spec.length - 1) problems.push(`--client ${spec}: expected ID:SECRET`)
    return { clientId: spec.slice(0, colon), secrets: [spec.slice(colon + 1)], scopes: [...SIMULATE_DEFAULTS.scopes] }
  })
  const host = string(problems, 'host', flags.host ?? file.host ?? SIMULATE_DEFAULTS.host)
  const imsPort = port('ims.port', flags['ims-port'], ims.port, SIMULATE_DEFAULTS.imsPort)
  const expiresInSeconds = integer(problems, 'ims.expiresInSeconds', flags['expires-in'] ?? ims.expiresInSeconds ?? DEFAULT_IMS_EXPIRES_IN_SECONDS, 1, 366 * 86_400)
  let clients = [...fileClients(problems, ims.clients), ...flagClients]
  if (clients.length === 0) clients = [{ clientId: SIMULATE_DEFAULTS.client.clientId, secrets: [SIMULATE_DEFAULTS.client.secret], scopes: [...SIMULATE_DEFAULTS.scopes] }]
  const campaignSwitches = (path: string, from: Record<string, unknown>, base: SimulatedCampaignSettings | undefined): Omit<SimulatedCampaignSettings, 'port'> => ({
    imsMandatory: flags['no-ims-mandatory'] === true ? false : boolean(problems, `${path}.imsMandatory`, from.imsMandatory ?? base?.imsMandatory ?? true),
    allowUserPassword: flags['no-allow-user-password'] === true ? false : boolean(problems, `${path}.allowUserPassword`, from.allowUserPassword ?? base?.allowUserPassword ?? true),
    strict: flags.strict === true ? true : boolean(problems, `${path}.strict`, from.strict ?? base?.strict ?? false),
    faultStatus: faultStatus(problems, `${path}.faultStatus`, flags['fault-status'] ?? from.faultStatus ?? base?.faultStatus ?? 500),
    operators: from.operators === undefined ? base?.operators ?? DEFAULT_OPERATORS : fileOperators(problems, `${path}.operators`, from.operators),
    access: DEFAULT_ACCESS,
  })
  const single: SimulatedCampaignSettings = {
    port: port('campaign.port', flags['campaign-port'], campaign.port, SIMULATE_DEFAULTS.campaignPort),
    ...campaignSwitches('campaign', campaign, undefined),
  }
  const flagCampaigns = (flags.campaign ?? []).map(spec => flagCampaign(problems, spec))
  const named = namedCampaigns(problems, file.campaigns, single, flagCampaigns, campaignSwitches)
  if (named.length > 0 && (flags['campaign-port'] !== undefined || campaign.port !== undefined)) {
    problems.push('campaign.port: a single instance\'s port; with several instances, give each its own port (campaigns.<name>.port, --campaign NAME:PORT)')
  }
  const registered = new Set(clients.map(c => c.clientId))
  for (const instance of named) {
    for (const client of instance.allowedClients ?? []) {
      if (!registered.has(client)) problems.push(`campaigns.${instance.name}.allowedClients: '${client}' is not a registered IMS client`)
    }
  }
  const config: SimulateConfig = {
    host,
    ims: { port: imsPort, expiresInSeconds, clients },
    campaign: single,
    ...(named.length > 0 ? { campaigns: named } : {}),
  }
  if (problems.length > 0) throw new UsageError(`invalid simulator configuration:\n  ${problems.join('\n  ')}`)
  return config
}

interface FlagCampaign { readonly name: string, readonly port: number, readonly allowedClients?: readonly string[] }

/** `--campaign NAME:PORT[:CLIENT,...]`. */
function flagCampaign (problems: string[], spec: string): FlagCampaign {
  const [name = '', portText, clientList, ...rest] = spec.split(':')
  const clients = clientList?.split(',') ?? []
  if (!INSTANCE_NAME.test(name) || portText === undefined || rest.length > 0 || clients.some(c => c === '')) {
    problems.push(`--campaign ${spec}: expected NAME:PORT or NAME:PORT:CLIENT,CLIENT (a name of letters, digits, _ and -, starting with a letter)`)
  }
  return {
    name,
    port: integer(problems, `--campaign ${spec}: the port`, portText, 0, 65_535),
    ...(clientList === undefined ? {} : { allowedClients: clients }),
  }
}

type Switches = (path: string, from: Record<string, unknown>, base: SimulatedCampaignSettings) => Omit<SimulatedCampaignSettings, 'port'>

/** `campaigns:` of the file, in its order, then the instances only flags name; a flag overrides a file instance's port and clients. */
function namedCampaigns (problems: string[], value: unknown, base: SimulatedCampaignSettings, flags: readonly FlagCampaign[], switches: Switches): SimulatedCampaign[] {
  let entries: [string, unknown][] = []
  if (value !== undefined) {
    if (isRecord(value)) entries = Object.entries(value)
    else problems.push('campaigns: must be a mapping of instance name to settings')
  }
  const names = new Set(entries.map(([name]) => name))
  for (const flag of flags) {
    if (names.has(flag.name)) continue
    names.add(flag.name)
    entries.push([flag.name, {}])
  }
  return entries.map(([name, entry]) => {
    const path = `campaigns.${name}`
    if (!INSTANCE_NAME.test(name)) problems.push(`${path}: an instance name starts with a letter and holds at most 64 letters, digits, _ and -`)
    const settings = isRecord(entry) ? entry : {}
    if (!isRecord(entry)) problems.push(`${path}: must be a mapping`)
    const flag = flags.find(f => f.name === name)
    if (flag === undefined && settings.port === undefined) problems.push(`${path}.port: required`)
    const allowed = flag?.allowedClients ?? (settings.allowedClients === undefined ? undefined : stringList(problems, `${path}.allowedClients`, settings.allowedClients))
    return {
      name,
      port: flag?.port ?? integer(problems, `${path}.port`, settings.port ?? 0, 0, 65_535),
      ...switches(path, settings, base),
      ...(allowed === undefined ? {} : { allowedClients: allowed }),
    }
  })
}

export interface RunningSimulators {
  readonly ims: ImsSimulator
  /** The single instance, or the first of several. */
  readonly campaign: CampaignSimulator
  /** Every instance by name (the single one is `default`). */
  readonly campaigns: ReadonlyMap<string, CampaignSimulator>
  close (): Promise<void>
}

/** Starts the IMS simulator and every Campaign instance, sharing one token authority. */
export async function startSimulators (config: SimulateConfig): Promise<RunningSimulators> {
  const authority = new TokenAuthority()
  const ims = await ImsSimulator.start({ host: config.host, port: config.ims.port, clients: config.ims.clients, expiresInSeconds: config.ims.expiresInSeconds, authority })
  const campaigns = new Map<string, CampaignSimulator>()
  const close = async (): Promise<void> => { await Promise.all([ims.close(), ...[...campaigns.values()].map(c => c.close())]) }
  try {
    if (config.campaigns === undefined) {
      campaigns.set(SINGLE_CAMPAIGN_NAME, await CampaignSimulator.start({ host: config.host, authority, ...config.campaign }))
    } else {
      for (const { name, allowedClients, ...settings } of config.campaigns) {
        campaigns.set(name, await CampaignSimulator.start({
          host: config.host, authority, instanceName: name, ...settings, ...(allowedClients === undefined ? {} : { allowedImsClients: allowedClients }),
        }))
      }
    }
  } catch (err) {
    await close()
    throw err
  }
  return { ims, campaign: [...campaigns.values()][0] as CampaignSimulator, campaigns, close }
}

/** What `simulate` prints once listening: where to point a proxy or a client. */
export function describeSimulators (config: SimulateConfig, running: RunningSimulators): string {
  const clients = config.ims.clients.map(c => `    ${c.clientId}  secrets: ${c.secrets.join(', ')}  scopes: ${c.scopes.join(',')}`).join('\n')
  const ims = `IMS simulator       ${running.ims.tokenUrl}  (tokens expire in ${config.ims.expiresInSeconds} s)\n  clients:\n${clients}\n`
  if (config.campaigns === undefined) return ims + describeCampaign('Campaign simulator  ', running.campaign.url, config.campaign)
  return ims + config.campaigns.map(instance =>
    describeCampaign(`Campaign simulator ${instance.name}  `, (running.campaigns.get(instance.name) as CampaignSimulator).url, instance)).join('')
}

function describeCampaign (title: string, url: string, settings: SimulatedCampaignSettings): string {
  const switches = [
    `imsMandatory=${settings.imsMandatory}`,
    `allowUserPassword=${settings.allowUserPassword}`,
    `strict=${settings.strict}`,
    `faultStatus=${settings.faultStatus}`,
  ].join(' ')
  const operators = settings.operators
    .map(o => `    ${o.login}${o.password === undefined ? '' : `/${o.password}`}${o.technical === true ? ' (technical operator)' : ''}`).join('\n')
  const accepts = settings.allowedClients === undefined ? '' : `  accepts tokens of: ${settings.allowedClients.join(', ')}\n`
  const audit = settings.access === undefined ? '' : `  ${MESSAGE_CENTER_OPERATOR.login} has folder permissions and a named right of its own: try audit-rights --operator ${MESSAGE_CENTER_OPERATOR.login}\n`
  return `${title}${url}  (${switches})\n${accepts}  operators:\n${operators}\n${audit}`
}

async function readYamlObject (path: string): Promise<Record<string, unknown>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${String((err as NodeJS.ErrnoException).code)}`)
  }
  let value: unknown
  try {
    value = parseYaml(text)
  } catch (err) {
    throw new UsageError(`${path} is not valid YAML: ${(err as Error).message}`)
  }
  if (value === null || value === undefined) return {}
  if (!isRecord(value)) throw new UsageError(`${path}: the top level must be a mapping`)
  return value
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function string (problems: string[], path: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') problems.push(`${path}: must be a non-empty string`)
  return String(value)
}

function integer (problems: string[], path: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    problems.push(`${path}: must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
    return min
  }
  return n
}

function boolean (problems: string[], path: string, value: unknown): boolean {
  if (typeof value !== 'boolean') problems.push(`${path}: must be true or false`)
  return value === true
}

function faultStatus (problems: string[], path: string, value: unknown): 200 | 500 {
  if (value === 200 || value === '200') return 200
  if (value !== 500 && value !== '500') problems.push(`${path}: must be 200 or 500, got ${JSON.stringify(value)}`)
  return 500
}

function stringList (problems: string[], path: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every(v => typeof v === 'string' && v !== '')) {
    problems.push(`${path}: must be a non-empty list of strings`)
    return []
  }
  return value as string[]
}

function fileClients (problems: string[], value: unknown): ImsClientRegistration[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) {
    problems.push('ims.clients: must be a list')
    return []
  }
  return value.map((entry: unknown, i) => {
    const path = `ims.clients[${i}]`
    const client = isRecord(entry) ? entry : {}
    if (!isRecord(entry)) problems.push(`${path}: must be a mapping`)
    return {
      clientId: string(problems, `${path}.clientId`, client.clientId),
      secrets: stringList(problems, `${path}.secrets`, client.secrets),
      scopes: client.scopes === undefined ? [...SIMULATE_DEFAULTS.scopes] : stringList(problems, `${path}.scopes`, client.scopes),
    }
  })
}

function fileOperators (problems: string[], listPath: string, value: unknown): CampaignOperator[] {
  if (!Array.isArray(value)) {
    problems.push(`${listPath}: must be a list`)
    return []
  }
  return value.map((entry: unknown, i) => {
    const path = `${listPath}[${i}]`
    const operator = isRecord(entry) ? entry : {}
    if (!isRecord(entry)) problems.push(`${path}: must be a mapping`)
    return {
      login: string(problems, `${path}.login`, operator.login),
      ...(operator.password === undefined ? {} : { password: string(problems, `${path}.password`, operator.password) }),
      technical: operator.technical === undefined ? false : boolean(problems, `${path}.technical`, operator.technical),
      ...(operator.rights === undefined ? {} : { rights: stringList(problems, `${path}.rights`, operator.rights) }),
    }
  })
}
