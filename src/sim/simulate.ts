/**
 * `campaign-ims-proxy simulate`: both simulators in one process, configured
 * from flags and/or a YAML file, for users rehearsing a migration and for
 * the compose file.
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { parse as parseYaml } from 'yaml'
import { CampaignSimulator, DEFAULT_OPERATORS, type CampaignOperator } from './campaign.js'
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

export interface SimulateConfig {
  readonly host: string
  readonly ims: { readonly port: number, readonly expiresInSeconds: number, readonly clients: readonly ImsClientRegistration[] }
  readonly campaign: {
    readonly port: number
    readonly imsMandatory: boolean
    readonly allowUserPassword: boolean
    readonly strict: boolean
    readonly faultStatus: 200 | 500
    readonly operators: readonly CampaignOperator[]
  }
}

export const SIMULATE_USAGE = `Usage: campaign-ims-proxy simulate [options]

Runs the Adobe IMS and Adobe Campaign simulators until SIGINT/SIGTERM.

Options (flags override the file):
  --config FILE              YAML file (keys: host, ims.{port,expiresInSeconds,clients},
                             campaign.{port,imsMandatory,allowUserPassword,strict,faultStatus,operators})
  --host ADDRESS             listen address of both (default ${SIMULATE_DEFAULTS.host})
  --ims-port PORT            IMS port (default ${SIMULATE_DEFAULTS.imsPort}; 0 picks a free port)
  --campaign-port PORT       Campaign port (default ${SIMULATE_DEFAULTS.campaignPort})
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
  const config: SimulateConfig = {
    host: string(problems, 'host', flags.host ?? file.host ?? SIMULATE_DEFAULTS.host),
    ims: {
      port: port('ims.port', flags['ims-port'], ims.port, SIMULATE_DEFAULTS.imsPort),
      expiresInSeconds: integer(problems, 'ims.expiresInSeconds', flags['expires-in'] ?? ims.expiresInSeconds ?? DEFAULT_IMS_EXPIRES_IN_SECONDS, 1, 366 * 86_400),
      clients: [...fileClients(problems, ims.clients), ...flagClients],
    },
    campaign: {
      port: port('campaign.port', flags['campaign-port'], campaign.port, SIMULATE_DEFAULTS.campaignPort),
      imsMandatory: flags['no-ims-mandatory'] === true ? false : boolean(problems, 'campaign.imsMandatory', campaign.imsMandatory ?? true),
      allowUserPassword: flags['no-allow-user-password'] === true ? false : boolean(problems, 'campaign.allowUserPassword', campaign.allowUserPassword ?? true),
      strict: flags.strict === true ? true : boolean(problems, 'campaign.strict', campaign.strict ?? false),
      faultStatus: faultStatus(problems, flags['fault-status'] ?? campaign.faultStatus ?? 500),
      operators: campaign.operators === undefined ? DEFAULT_OPERATORS : fileOperators(problems, campaign.operators),
    },
  }
  if (problems.length > 0) throw new UsageError(`invalid simulator configuration:\n  ${problems.join('\n  ')}`)
  if (config.ims.clients.length === 0) {
    return { ...config, ims: { ...config.ims, clients: [{ clientId: SIMULATE_DEFAULTS.client.clientId, secrets: [SIMULATE_DEFAULTS.client.secret], scopes: [...SIMULATE_DEFAULTS.scopes] }] } }
  }
  return config
}

export interface RunningSimulators {
  readonly ims: ImsSimulator
  readonly campaign: CampaignSimulator
  close (): Promise<void>
}

/** Starts both simulators sharing one token authority. */
export async function startSimulators (config: SimulateConfig): Promise<RunningSimulators> {
  const authority = new TokenAuthority()
  const ims = await ImsSimulator.start({ host: config.host, port: config.ims.port, clients: config.ims.clients, expiresInSeconds: config.ims.expiresInSeconds, authority })
  let campaign: CampaignSimulator
  try {
    campaign = await CampaignSimulator.start({ host: config.host, authority, ...config.campaign })
  } catch (err) {
    await ims.close()
    throw err
  }
  return { ims, campaign, close: async () => { await Promise.all([ims.close(), campaign.close()]) } }
}

/** What `simulate` prints once listening: where to point a proxy or a client. */
export function describeSimulators (config: SimulateConfig, running: RunningSimulators): string {
  const switches = [
    `imsMandatory=${config.campaign.imsMandatory}`,
    `allowUserPassword=${config.campaign.allowUserPassword}`,
    `strict=${config.campaign.strict}`,
    `faultStatus=${config.campaign.faultStatus}`,
  ].join(' ')
  const clients = config.ims.clients.map(c => `    ${c.clientId}  secrets: ${c.secrets.join(', ')}  scopes: ${c.scopes.join(',')}`).join('\n')
  const operators = config.campaign.operators
    .map(o => `    ${o.login}${o.password === undefined ? '' : `/${o.password}`}${o.technical === true ? ' (technical operator)' : ''}`).join('\n')
  return `IMS simulator       ${running.ims.tokenUrl}  (tokens expire in ${config.ims.expiresInSeconds} s)\n` +
    `  clients:\n${clients}\n` +
    `Campaign simulator  ${running.campaign.url}  (${switches})\n` +
    `  operators:\n${operators}\n`
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

function faultStatus (problems: string[], value: unknown): 200 | 500 {
  if (value === 200 || value === '200') return 200
  if (value !== 500 && value !== '500') problems.push(`campaign.faultStatus: must be 200 or 500, got ${JSON.stringify(value)}`)
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

function fileOperators (problems: string[], value: unknown): CampaignOperator[] {
  if (!Array.isArray(value)) {
    problems.push('campaign.operators: must be a list')
    return []
  }
  return value.map((entry: unknown, i) => {
    const path = `campaign.operators[${i}]`
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
