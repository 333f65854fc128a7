/**
 * `campaign-ims-proxy demo`: the IMS and Campaign simulators (Campaign in
 * v8.6 "IMS mandatory" mode, strict about leftover credentials) and the
 * proxy in front of them, with a demo configuration, plus a curl command and
 * an acc-js-sdk snippet that work as printed.
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import type { Logger } from 'pino'
import { parseConfig } from './config/load.js'
import type { Config } from './config/types.js'
import { startServer, type RunningServer } from './server.js'
import { SIMULATE_DEFAULTS, startSimulators, type RunningSimulators } from './sim/simulate.js'
import { DEFAULT_OPERATORS, MESSAGE_CENTER_OPERATOR } from './sim/campaign.js'
import { UsageError } from './usage-error.js'

export const DEMO_DEFAULTS = { host: '127.0.0.1', proxyPort: 8080, adminPort: 9464, imsPort: 8081, campaignPort: 8082 } as const

export const DEMO_USAGE = `Usage: campaign-ims-proxy demo [options]

Starts the IMS and Campaign simulators and the proxy in front of them, then
prints a curl command and an acc-js-sdk snippet to try. Ctrl-C stops it.

Options:
  --port PORT            proxy port (default ${DEMO_DEFAULTS.proxyPort}; 0 picks a free port, as do the others)
  --admin-port PORT      admin port: /livez, /readyz (default ${DEMO_DEFAULTS.adminPort})
  --ims-port PORT        IMS simulator port (default ${DEMO_DEFAULTS.imsPort})
  --campaign-port PORT   Campaign simulator port (default ${DEMO_DEFAULTS.campaignPort})
`

export interface DemoPorts { readonly proxy: number, readonly admin: number, readonly ims: number, readonly campaign: number }

export function demoPorts (args: readonly string[]): DemoPorts {
  let values
  try {
    values = parseArgs({
      args: [...args],
      options: { port: { type: 'string' }, 'admin-port': { type: 'string' }, 'ims-port': { type: 'string' }, 'campaign-port': { type: 'string' } },
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
    admin: port('admin-port', values['admin-port'], DEMO_DEFAULTS.adminPort),
    ims: port('ims-port', values['ims-port'], DEMO_DEFAULTS.imsPort),
    campaign: port('campaign-port', values['campaign-port'], DEMO_DEFAULTS.campaignPort),
  }
}

/** The demo configuration, written as a user would write it, through the real loader. */
export function demoConfig (ports: { proxy: number, admin: number }, sims: RunningSimulators): Config {
  const yaml = `
listen: { host: ${DEMO_DEFAULTS.host}, port: ${ports.proxy} }
admin: { host: ${DEMO_DEFAULTS.host}, port: ${ports.admin} }
campaign:
  url: ${sims.campaign.url}
ims:
  tokenUrl: ${sims.ims.tokenUrl}
technicalAccounts:
  messageCenter:
    clientId: ${SIMULATE_DEFAULTS.client.clientId}
    clientSecret: ${SIMULATE_DEFAULTS.client.secret}
    scopes: [${SIMULATE_DEFAULTS.scopes.join(', ')}]
sessions:
  secret: ${randomBytes(32).toString('base64url')}
unknownCallers: reject
integrations:
  # The website on this machine pushes Message Center events: identified by its address.
  - name: website-events
    networks: [127.0.0.1/32, ::1/128]
    technicalAccount: messageCenter
logging: { level: info }
`
  return parseConfig(yaml, { source: 'demo configuration', env: {} })
}

/** The seed's PushEvent sample, as a legacy Message Center client sends it (login/password in the session token). */
export function pushEventSample (): string {
  return '<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:nms:rtEvent">' +
    '<soapenv:Header/><soapenv:Body><urn:PushEvent>' +
    `<urn:sessiontoken>${MESSAGE_CENTER_OPERATOR.login}/${MESSAGE_CENTER_OPERATOR.password}</urn:sessiontoken>` +
    '<urn:domEvent><rtEvent type="welcome" email="ann@example.com" origin="demo"/></urn:domEvent>' +
    '</urn:PushEvent></soapenv:Body></soapenv:Envelope>'
}

export function demoInstructions (server: RunningServer, sims: RunningSimulators): string {
  const soapRouter = `${server.proxyUrl}/nl/jsp/soaprouter.jsp`
  return `
campaign-ims-proxy demo
  proxy               ${server.proxyUrl}   (point legacy integrations here)
  admin               ${server.adminUrl}/readyz
  Campaign simulator  ${sims.campaign.url}   (IMS mandatory, strict: refuses any legacy credential)
  IMS simulator       ${sims.ims.tokenUrl}

Push a Message Center event the legacy way (login/password in the session token):

curl -sS ${soapRouter} -H 'Content-Type: text/xml; charset=utf-8' -H 'SOAPAction: "nms:rtEvent#PushEvent"' --data-binary '${pushEventSample()}'

The same with the unchanged @adobe/acc-js-sdk (save as demo.mjs next to a node_modules holding @adobe/acc-js-sdk@1.2.0, then run: node demo.mjs):

import sdk from '@adobe/acc-js-sdk'
const client = await sdk.init(sdk.ConnectionParameters.ofSessionToken('${server.proxyUrl}', '${MESSAGE_CENTER_OPERATOR.login}/${MESSAGE_CENTER_OPERATOR.password}'))
await client.logon()
console.log('event id', await client.NLWS.nmsRtEvent.pushEvent({ type: 'welcome', email: 'ann@example.com' }))

Press Ctrl-C to stop.
`
}

export interface RunningDemo {
  readonly server: RunningServer
  readonly sims: RunningSimulators
  close (): Promise<void>
}

export async function startDemo (ports: DemoPorts, logger: Logger): Promise<RunningDemo> {
  const sims = await startSimulators({
    host: DEMO_DEFAULTS.host,
    ims: { port: ports.ims, expiresInSeconds: 86_399, clients: [{ clientId: SIMULATE_DEFAULTS.client.clientId, secrets: [SIMULATE_DEFAULTS.client.secret], scopes: [...SIMULATE_DEFAULTS.scopes] }] },
    campaign: { port: ports.campaign, imsMandatory: true, allowUserPassword: true, strict: true, faultStatus: 500, operators: DEFAULT_OPERATORS },
  })
  let server: RunningServer
  try {
    server = await startServer(demoConfig(ports, sims), logger)
  } catch (err) {
    await sims.close()
    throw err
  }
  return { server, sims, close: async () => { await server.close(); await sims.close() } }
}
