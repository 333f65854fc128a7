/**
 * `campaign-ims-proxy demo`: the IMS simulator, two Campaign simulators (a
 * marketing instance and a Message Center instance, both in v8.6 "IMS
 * mandatory" mode, strict about leftover credentials, each accepting only
 * its own technical account's tokens) and the proxy in front of them, with a
 * demo configuration (also written to a file, for `audit-rights`), plus curl
 * commands, an acc-js-sdk snippet and an `audit-rights` command that work
 * as printed.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Logger } from 'pino'
import { parseConfig } from './config/load.js'
import { startServer, type RunningServer } from './server.js'
import { DEFAULT_ACCESS, SIMULATE_DEFAULTS, startSimulators, type RunningSimulators, type SimulatedCampaignSettings } from './sim/simulate.js'
import { DEFAULT_OPERATORS, MESSAGE_CENTER_OPERATOR, type CampaignSimulator } from './sim/campaign.js'
import { UsageError } from './usage-error.js'

export const DEMO_DEFAULTS = {
  host: '127.0.0.1', proxyPort: 8080, adminPort: 9464, imsPort: 8081, campaignPort: 8082, mcPort: 8083, mcCampaignPort: 8084,
} as const

/** The demo's two technical accounts, one per instance, each an IMS client of its own. */
export const DEMO_ACCOUNTS = {
  marketing: { clientId: 'demo-marketing-client', secret: 'demo-marketing-secret' },
  messageCenter: { clientId: 'demo-mc-client', secret: 'demo-mc-secret' },
} as const

export const DEMO_USAGE = `Usage: campaign-ims-proxy demo [options]

Starts the IMS simulator, a marketing and a Message Center Campaign simulator
(each accepting only its own technical account) and the proxy in front of
them, then prints curl commands and an acc-js-sdk snippet to try. Ctrl-C stops it.

Options:
  --port PORT              proxy port, for the marketing instance (default ${DEMO_DEFAULTS.proxyPort}; 0 picks a free port, as do the others)
  --mc-port PORT           proxy port for the Message Center instance (default ${DEMO_DEFAULTS.mcPort})
  --admin-port PORT        admin port: the status page at /, /readyz, /integrations (default ${DEMO_DEFAULTS.adminPort})
  --ims-port PORT          IMS simulator port (default ${DEMO_DEFAULTS.imsPort})
  --campaign-port PORT     marketing Campaign simulator port (default ${DEMO_DEFAULTS.campaignPort})
  --mc-campaign-port PORT  Message Center Campaign simulator port (default ${DEMO_DEFAULTS.mcCampaignPort})
`

export interface DemoPorts {
  readonly proxy: number
  readonly mc: number
  readonly admin: number
  readonly ims: number
  readonly campaign: number
  readonly mcCampaign: number
}

export function demoPorts (args: readonly string[]): DemoPorts {
  let values
  try {
    values = parseArgs({
      args: [...args],
      options: {
        port: { type: 'string' },
        'mc-port': { type: 'string' },
        'admin-port': { type: 'string' },
        'ims-port': { type: 'string' },
        'campaign-port': { type: 'string' },
        'mc-campaign-port': { type: 'string' },
      },
    }).values
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const port = (flag: string, value: string | undefined, fallback: number): number => {
    if (value === undefined) return fallback
    if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) throw new UsageError(`--${flag} must be a port number, got '${value}'`)
    return Number(value)
  }
  return {
    proxy: port('port', values.port, DEMO_DEFAULTS.proxyPort),
    mc: port('mc-port', values['mc-port'], DEMO_DEFAULTS.mcPort),
    admin: port('admin-port', values['admin-port'], DEMO_DEFAULTS.adminPort),
    ims: port('ims-port', values['ims-port'], DEMO_DEFAULTS.imsPort),
    campaign: port('campaign-port', values['campaign-port'], DEMO_DEFAULTS.campaignPort),
    mcCampaign: port('mc-campaign-port', values['mc-campaign-port'], DEMO_DEFAULTS.mcCampaignPort),
  }
}

const instance = (sims: RunningSimulators, name: 'marketing' | 'messageCenter'): CampaignSimulator => sims.campaigns.get(name) as CampaignSimulator

/** The demo configuration, written as a user would write it: parsed by the real loader, and written to a file for audit-rights. */
export function demoConfigYaml (ports: { proxy: number, mc: number, admin: number }, sims: RunningSimulators): string {
  const account = (a: { clientId: string, secret: string }): string =>
    `{ clientId: ${a.clientId}, clientSecret: ${a.secret}, scopes: [${SIMULATE_DEFAULTS.scopes.join(', ')}] }`
  const yaml = `
listen: { host: ${DEMO_DEFAULTS.host}, port: ${ports.proxy} }
admin: { host: ${DEMO_DEFAULTS.host}, port: ${ports.admin} }
campaigns:
  marketing:
    url: ${instance(sims, 'marketing').url}
  messageCenter:
    url: ${instance(sims, 'messageCenter').url}
    listen: { port: ${ports.mc} }   # every request on this port is for Message Center
defaultCampaign: marketing          # the main listener's requests
ims:
  tokenUrl: ${sims.ims.tokenUrl}
technicalAccounts:
  # One technical account per instance, each in the product profile of its instance only.
  marketing: ${account(DEMO_ACCOUNTS.marketing)}
  messageCenter: ${account(DEMO_ACCOUNTS.messageCenter)}
sessions:
  secret: ${randomBytes(32).toString('base64url')}
unknownCallers: reject
integrations:
  # The website on this machine reads marketing options and pushes Message Center events: identified by its address.
  - name: website-events
    networks: [127.0.0.1/32, ::1/128]
    technicalAccount: { marketing: marketing, messageCenter: messageCenter }
    # Least privilege: what it calls, nothing else of what the technical accounts may do (suggest-allowlist prints such a list).
    allowedMethods: [xtk:session#GetOption, nms:rtEvent#PushEvent, nms:rtEvent#PushEvents, xtk:persist#GetEntityIfMoreRecent]
logging: { level: info }
`
  return yaml
}

const LEGACY_SESSION_TOKEN = `${MESSAGE_CENTER_OPERATOR.login}/${MESSAGE_CENTER_OPERATOR.password}`

/** The seed's PushEvent sample, as a legacy Message Center client sends it (login/password in the session token). */
export function pushEventSample (): string {
  return '<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:nms:rtEvent">' +
    '<soapenv:Header/><soapenv:Body><urn:PushEvent>' +
    `<urn:sessiontoken>${LEGACY_SESSION_TOKEN}</urn:sessiontoken>` +
    '<urn:domEvent><rtEvent type="welcome" email="ann@example.com" origin="demo"/></urn:domEvent>' +
    '</urn:PushEvent></soapenv:Body></soapenv:Envelope>'
}

/** A legacy marketing call: reading an option, login/password in the session token. */
export function getOptionSample (): string {
  return '<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:xtk:session">' +
    '<soapenv:Header/><soapenv:Body><urn:GetOption>' +
    `<urn:sessiontoken>${LEGACY_SESSION_TOKEN}</urn:sessiontoken><urn:name>XtkDatabaseId</urn:name>` +
    '</urn:GetOption></soapenv:Body></soapenv:Envelope>'
}

/** A call the demo integration's allowedMethods do not list: a recipient written (the technical account itself may do it). */
export function writeSample (): string {
  return '<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:xtk:session">' +
    '<soapenv:Header/><soapenv:Body><urn:Write>' +
    `<urn:sessiontoken>${LEGACY_SESSION_TOKEN}</urn:sessiontoken><urn:domDoc><recipient xtkschema="nms:recipient" _operation="insert" email="eve@example.com"/></urn:domDoc>` +
    '</urn:Write></soapenv:Body></soapenv:Envelope>'
}

export function demoInstructions (server: RunningServer, sims: RunningSimulators, configFile: string): string {
  const mcUrl = server.campaignListenerUrls.get('messageCenter') as string
  const curl = (base: string, action: string, body: string): string =>
    `curl -sS ${base}/nl/jsp/soaprouter.jsp -H 'Content-Type: text/xml; charset=utf-8' -H 'SOAPAction: "${action}"' --data-binary '${body}'`
  return `
campaign-ims-proxy demo
  proxy, marketing             ${server.proxyUrl}   (point legacy marketing integrations here)
  proxy, Message Center        ${mcUrl}   (and legacy Message Center integrations here)
  status page                  ${server.adminUrl}/   (and /readyz, /integrations, /metrics)
  Campaign marketing           ${instance(sims, 'marketing').url}   (IMS mandatory, strict; accepts only ${DEMO_ACCOUNTS.marketing.clientId})
  Campaign Message Center      ${instance(sims, 'messageCenter').url}   (IMS mandatory, strict; accepts only ${DEMO_ACCOUNTS.messageCenter.clientId})
  IMS simulator                ${sims.ims.tokenUrl}

Read a marketing option the legacy way (login/password in the session token); the proxy adds the marketing account's token:

${curl(server.proxyUrl, 'xtk:session#GetOption', getOptionSample())}

Push a Message Center event the same way; the proxy adds the Message Center account's token:

${curl(mcUrl, 'nms:rtEvent#PushEvent', pushEventSample())}

Least privilege: the integration may call only its allowedMethods. A Write (which the technical account itself may do) is
answered by the proxy with HTTP 403 and never reaches Campaign:

${curl(server.proxyUrl, 'xtk:session#Write', writeSample())} -w '\\nHTTP %{http_code}\\n'

The same with the unchanged @adobe/acc-js-sdk (save as demo.mjs next to a node_modules holding @adobe/acc-js-sdk@1.2.0, then run: node demo.mjs):

import sdk from '@adobe/acc-js-sdk'
const marketing = await sdk.init(sdk.ConnectionParameters.ofSessionToken('${server.proxyUrl}', '${LEGACY_SESSION_TOKEN}'))
await marketing.logon()
console.log('marketing database', await marketing.getOption('XtkDatabaseId'))
const messageCenter = await sdk.init(sdk.ConnectionParameters.ofSessionToken('${mcUrl}', '${LEGACY_SESSION_TOKEN}'))
await messageCenter.logon()
console.log('event id', await messageCenter.NLWS.nmsRtEvent.pushEvent({ type: 'welcome', email: 'ann@example.com' }))

Compare the folder permissions and named rights of the legacy Message Center operator ${MESSAGE_CENTER_OPERATOR.login} with those of the
Message Center technical account's operator (Adobe's migration step 4; with the demo's configuration, written to
${configFile}). Add --apply to grant the missing folder permissions (npm users: node dist/cli.js instead of campaign-ims-proxy):

campaign-ims-proxy audit-rights --config ${configFile} --campaign messageCenter --account messageCenter --operator ${MESSAGE_CENTER_OPERATOR.login}

Press Ctrl-C to stop.
`
}

export interface RunningDemo {
  readonly server: RunningServer
  readonly sims: RunningSimulators
  /** The demo configuration as a file (removed by close), for audit-rights --config. */
  readonly configFile: string
  close (): Promise<void>
}

export async function startDemo (ports: DemoPorts, logger: Logger): Promise<RunningDemo> {
  const v86: SimulatedCampaignSettings = { port: ports.campaign, imsMandatory: true, allowUserPassword: true, strict: true, faultStatus: 500, operators: DEFAULT_OPERATORS, access: DEFAULT_ACCESS }
  const client = (a: { clientId: string, secret: string }): { clientId: string, secrets: string[], scopes: string[] } =>
    ({ clientId: a.clientId, secrets: [a.secret], scopes: [...SIMULATE_DEFAULTS.scopes] })
  const sims = await startSimulators({
    host: DEMO_DEFAULTS.host,
    ims: { port: ports.ims, expiresInSeconds: 86_399, clients: [client(DEMO_ACCOUNTS.marketing), client(DEMO_ACCOUNTS.messageCenter)] },
    campaign: v86,
    campaigns: [
      { ...v86, name: 'marketing', port: ports.campaign, allowedClients: [DEMO_ACCOUNTS.marketing.clientId] },
      { ...v86, name: 'messageCenter', port: ports.mcCampaign, allowedClients: [DEMO_ACCOUNTS.messageCenter.clientId] },
    ],
  })
  let server: RunningServer
  const dir = await mkdtemp(join(tmpdir(), 'campaign-ims-proxy-demo-'))
  const configFile = join(dir, 'demo.yaml')
  const removeFile = async (): Promise<void> => { await rm(dir, { recursive: true, force: true }) }
  try {
    const yaml = demoConfigYaml(ports, sims)
    // Only its owner can read it: it holds the demo's session secret.
    await writeFile(configFile, yaml, { mode: 0o600 })
    server = await startServer(parseConfig(yaml, { source: 'demo configuration', env: {} }), logger)
  } catch (err) {
    await Promise.all([sims.close(), removeFile()])
    throw err
  }
  return { server, sims, configFile, close: async () => { await server.close(); await sims.close(); await removeFile() } }
}
