// Several Campaign instances behind one proxy (docs/configuration.md#several-campaign-instances):
// the instance is the listener's, else the Host's on the main listener, else
// defaultCampaign; each integration uses its account of that instance.
import { readFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import { hashPassword } from '../../src/auth/passwords.js'
import { parseConfig } from '../../src/config/load.js'
import type { Config } from '../../src/config/types.js'
import { createLogger } from '../../src/observability/logger.js'
import { startServer, type RunningServer } from '../../src/server.js'
import { CampaignSimulator, type RecordedRequest } from '../../src/sim/campaign.js'
import { ImsSimulator, type ImsClientRegistration } from '../../src/sim/ims.js'
import { PROXY_FAULTS } from '../../src/soap/faults.js'
import { rawExchange, send, soapPost, type HttpResult } from '../fixtures/http.js'
import { ACCOUNTS } from '../fixtures/proxy-stack.js'
import { outputText, soapEnvelope } from '../fixtures/soap.js'

const PASSWORD = 'several-campaigns-pw'
const ROUTER = '/nl/jsp/soaprouter.jsp'
const tlsFile = (name: string): string => fileURLToPath(new URL(`../fixtures/tls/${name}`, import.meta.url))

const logonBody = (login: string): string => soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', login], ['password', PASSWORD], ['parameters', { xml: '' }]] })
const getOption = (session: string, security: string): string => soapEnvelope({ schema: 'xtk:session', method: 'GetOption', sessionToken: session, params: [['name', 'XtkDatabaseId']], header: [['X-Security-Token', security]] })

interface Stack {
  readonly marketing: CampaignSimulator
  readonly messageCenter: CampaignSimulator
  readonly server: RunningServer
  readonly config: Config
  readonly yaml: string
  readonly logs: string[]
  /** The SOAP router on the main listener, and on each instance's own listener. */
  readonly main: string
  readonly mkt: string
  readonly mc: string
}

/** Two Campaign simulators, each accepting only its own technical account's IMS client, behind one proxy. */
async function startStack (t: Test, options: { readonly extra?: string, readonly tls?: boolean, readonly imsRefuses?: 'events' } = {}): Promise<Stack> {
  const ims = await ImsSimulator.start({ clients: Object.values(ACCOUNTS) })
  const sim = async (client: string, instanceName: string): Promise<CampaignSimulator> =>
    await CampaignSimulator.start({ authority: ims.authority, strict: true, imsMandatory: true, allowedImsClients: [client], instanceName })
  // IMS no longer accepting an account's secret (a rotation not carried over): that account gets no token.
  if (options.imsRefuses !== undefined) ims.registerClient({ ...ACCOUNTS[options.imsRefuses] as ImsClientRegistration, secrets: ['rotated-away'] })
  const marketing = await sim(ACCOUNTS.marketing?.clientId as string, 'acme_mkt_prod1')
  const messageCenter = await sim(ACCOUNTS.events?.clientId as string, 'acme_rt_prod1')
  t.teardown(async () => { await Promise.all([ims.close(), marketing.close(), messageCenter.close()]) })
  const hash = await hashPassword(PASSWORD, { N: 1024 })
  const tls = options.tls === true ? `, tls: { certFile: '${tlsFile('server.pem')}', keyFile: '${tlsFile('server-key.pem')}' }` : ''
  const yaml = `
listen: { host: 127.0.0.1, port: 0${tls} }
admin: { host: 127.0.0.1, port: 0 }
campaigns:
  marketing:
    url: '${marketing.url}'
    listen: { port: 0 }
    hosts: [mkt.proxy.internal]
  messageCenter:
    url: '${messageCenter.url}'
    timeoutSeconds: 10
    listen: { port: 0 }
    hosts: [RT.Proxy.Internal]
ims: { tokenUrl: '${ims.tokenUrl}', timeoutSeconds: 5 }
technicalAccounts:
  marketing: { clientId: marketing-client, clientSecret: marketing-secret, scopes: [AdobeID, openid, campaign_sdk] }
  events: { clientId: events-client, clientSecret: events-secret, scopes: [AdobeID, openid, campaign_sdk] }
sessions: { secret: test-session-secret-0123456789abcdefghij }
integrations:
  - { name: website-events, login: mc, passwordHash: '${hash}', technicalAccount: { marketing: marketing, messageCenter: events } }
  - { name: crm-sync, login: crm_operator, passwordHash: '${hash}', technicalAccount: { marketing: marketing } }
${options.extra ?? ''}
`
  const config = parseConfig(yaml, { source: 'test', env: {} })
  const logs: string[] = []
  const sink = new Writable({ write (chunk: Buffer, _enc, done) { logs.push(chunk.toString('utf8')); done() } })
  const server = await startServer(config, createLogger('debug', sink))
  t.teardown(() => server.close())
  const tokens = await Promise.allSettled([server.tokens.get('marketing'), server.tokens.get('events')])
  const failed = tokens.flatMap((result, i) => result.status === 'rejected' ? [['marketing', 'events'][i]] : [])
  if (failed.join() !== (options.imsRefuses ?? '')) throw new Error(`tokens missing: ${failed.join()}`)
  const own = (name: string): string => `${server.campaignListenerUrls.get(name) as string}${ROUTER}`
  return { marketing, messageCenter, server, config, yaml, logs, main: `${server.proxyUrl}${ROUTER}`, mkt: own('marketing'), mc: own('messageCenter') }
}

/** The IMS client a recorded request's bearer was issued to (the token's JWT claims). */
function bearerClient (recorded: RecordedRequest | undefined): string | undefined {
  const bearer = /^Bearer (.+)$/.exec(String(recorded?.headers.authorization))?.[1]
  if (bearer === undefined) return undefined
  return (JSON.parse(Buffer.from(bearer.split('.')[1] as string, 'base64url').toString('utf8')) as { client_id: string }).client_id
}

/** The GetOption calls a simulator received (not the GetUserInfo of a Logon's session info). */
const soapCalls = (sim: CampaignSimulator): RecordedRequest[] => sim.requests.filter(r => r.url === ROUTER && r.soapMethod === 'xtk:session#GetOption')

async function logon (router: string, login: string, headers = {}): Promise<{ response: HttpResult, session: string, security: string }> {
  const response = await soapPost(router, logonBody(login), headers, 'xtk:session#Logon')
  return { response, session: outputText(response.text, 'pstrSessionToken') ?? '', security: outputText(response.text, 'pstrSecurityToken') ?? '' }
}

t.test('one integration, one account per instance: each instance gets its own bearer, and a session from one listener works on the other', async t => {
  const s = await startStack(t)
  const { response, session, security } = await logon(s.mkt, 'mc')
  t.equal(response.status, 200, 'Logon through the marketing listener is answered')
  t.match(response.text, 'acme_mkt_prod1', 'its serverInfo comes from the instance of arrival')
  t.same([s.marketing.requests.map(r => r.url).includes('/r/test'), s.messageCenter.requests.length], [true, 0], 'session info was asked of marketing only')
  s.marketing.clearRequests()

  const onMkt = await soapPost(s.mkt, getOption(session, security), {}, 'xtk:session#GetOption')
  t.equal(onMkt.status, 200, 'the call on the marketing listener is answered by marketing')
  t.same(soapCalls(s.marketing).map(bearerClient), ['marketing-client'], 'marketing got the marketing account\'s bearer')
  t.equal(soapCalls(s.marketing)[0]?.headers.host, new URL(s.marketing.url).host, 'with marketing\'s Host')

  const onMc = await soapPost(s.mc, getOption(session, security), {}, 'xtk:session#GetOption')
  t.equal(onMc.status, 200, 'the same session works on the Message Center listener')
  t.same(soapCalls(s.messageCenter).map(bearerClient), ['events-client'], 'Message Center got the events account\'s bearer')
  t.equal(soapCalls(s.messageCenter)[0]?.headers.host, new URL(s.messageCenter.url).host, 'with Message Center\'s Host')
  t.equal(soapCalls(s.marketing).length, 1, 'marketing saw nothing of it')

  const redir = await send(`${s.server.campaignListenerUrls.get('messageCenter') as string}/r/test`)
  t.same([redir.status, s.messageCenter.requests.at(-1)?.url, s.marketing.requests.some(r => r.url === '/r/test')], [200, '/r/test', false], '/r/test goes to the listener\'s instance')
  const mcListener = s.server.campaignListenerUrls.get('messageCenter') as string
  const wsdl = await send(`${mcListener}/nl/jsp/schemawsdl.jsp?schema=nms:rtEvent`, { headers: { 'x-session-token': session, 'x-security-token': security } })
  t.same([wsdl.status, wsdl.text.includes(`location="${mcListener}/nl/jsp/soaprouter.jsp"`), wsdl.text.includes(new URL(s.messageCenter.url).host)], [200, true, false], 'a WSDL fetched through the Message Center listener names that listener, never the instance')
  const ping = await send(`${s.server.campaignListenerUrls.get('messageCenter') as string}/nl/jsp/mcPing.jsp`)
  const pinged = s.messageCenter.requests.at(-1)
  t.same([ping.status === 0, pinged?.url, pinged?.headers.authorization], [false, '/nl/jsp/mcPing.jsp', undefined], 'Message Center\'s health page passes through to its instance, without a token')

  const started = JSON.parse(s.logs.find(line => line.includes('campaign-ims-proxy listening')) as string) as { campaigns: unknown }
  t.same(started.campaigns, [
    { name: 'marketing', url: s.marketing.url, listener: s.server.campaignListenerUrls.get('marketing'), hosts: ['mkt.proxy.internal'], isDefault: false },
    { name: 'messageCenter', url: s.messageCenter.url, listener: s.server.campaignListenerUrls.get('messageCenter'), hosts: ['rt.proxy.internal'], isDefault: false },
  ], 'the startup line lists each instance and its listener')
  const inventory = JSON.parse((await send(`${s.server.adminUrl}/integrations`)).text) as { integrations: Array<{ name: string, technicalAccount: unknown, campaigns: Record<string, number> }> }
  const events = inventory.integrations.find(i => i.name === 'website-events')
  t.same(events?.technicalAccount, { marketing: 'marketing', messageCenter: 'events' }, 'the inventory shows the account map')
  t.same(events?.campaigns, { marketing: 2, messageCenter: 2 }, 'and the integration\'s calls per instance (the Logon and a call on marketing; a call and the WSDL on Message Center)')
})

t.test('an instance the integration has no account for, an unknown Host, and hosts on the main listener', async t => {
  const s = await startStack(t)
  const { session, security } = await logon(s.mkt, 'crm_operator')
  t.ok(session.startsWith('___'), 'crm-sync logs on through marketing')
  const refused = await soapPost(s.mc, getOption(session, security), {}, 'xtk:session#GetOption')
  t.equal(refused.status, 500, 'its call on the Message Center listener is answered locally')
  t.match(refused.text, PROXY_FAULTS.sessionInvalid.message, 'with the session fault')
  t.match(refused.text, 'no technical account for Campaign instance messageCenter', 'naming the instance')
  const logonThere = await logon(s.mc, 'crm_operator')
  t.same([logonThere.response.status, logonThere.response.text.includes('Campaign instance messageCenter')], [500, true], 'a Logon there is refused the same way')
  t.equal(s.messageCenter.requests.length, 0, 'Message Center received nothing')

  s.marketing.clearRequests()
  const unmatched = await soapPost(s.main, getOption(session, security), { host: 'campaign.example.com' }, 'xtk:session#GetOption')
  t.same([unmatched.status, unmatched.text.includes(PROXY_FAULTS.misdirected.message)], [421, true], 'an unmatched Host on the main listener, no defaultCampaign: 421 PRX-000017')
  const noHost = await rawExchange(s.main, 'GET /r/test HTTP/1.0\r\n\r\n')
  t.match(noHost, /^HTTP\/1\.1 421 /, 'no Host at all: 421 too')
  t.same([s.marketing.requests.length, s.messageCenter.requests.length], [0, 0], 'nothing was forwarded to either instance')

  const selected = await soapPost(s.main, getOption(session, security), { host: 'MKT.proxy.internal:8080' }, 'xtk:session#GetOption')
  t.equal(selected.status, 200, 'a hosts entry (any case, any port) selects its instance on the main listener')
  t.same(soapCalls(s.marketing).map(bearerClient), ['marketing-client'], 'marketing got the call with its account')
  const web = await logon(s.main, 'mc', { host: 'rt.proxy.internal' })
  t.match(web.response.text, 'acme_rt_prod1', 'a Logon on the main listener for rt.proxy.internal gets Message Center\'s serverInfo')
  const onMc = await soapPost(s.main, getOption(web.session, web.security), { host: 'rt.proxy.internal' }, 'xtk:session#GetOption')
  t.same([onMc.status, soapCalls(s.messageCenter).map(bearerClient)], [200, ['events-client']], 'and its call reaches Message Center with the events account')
})

t.test('defaultCampaign takes the main listener\'s unmatched requests; a reload applies new hosts, a new default and a removed instance', async t => {
  const s = await startStack(t, { extra: 'defaultCampaign: messageCenter' })
  const { session, security } = await logon(s.main, 'mc', { host: 'campaign.example.com' })
  const answer = await soapPost(s.main, getOption(session, security), { host: 'campaign.example.com' }, 'xtk:session#GetOption')
  t.same([answer.status, soapCalls(s.messageCenter).map(bearerClient), soapCalls(s.marketing).length], [200, ['events-client'], 0], 'an unmatched Host goes to defaultCampaign')

  t.same(await s.server.reload(s.config), { ok: true, restartRequired: [], tokensRenewed: false }, 'an unchanged configuration reloads')
  const changed = parseConfig(s.yaml.replace('hosts: [RT.Proxy.Internal]', 'hosts: [mc.proxy.internal]').replace('defaultCampaign: messageCenter', 'defaultCampaign: marketing'), { source: 'test', env: {} })
  t.same(await s.server.reload(changed), { ok: true, restartRequired: [], tokensRenewed: false }, 'new hosts and another default are applied by the reload')
  s.marketing.clearRequests()
  s.messageCenter.clearRequests()
  const toDefault = await soapPost(s.main, getOption(session, security), { host: 'campaign.example.com' }, 'xtk:session#GetOption')
  t.same([toDefault.status, soapCalls(s.marketing).map(bearerClient), soapCalls(s.messageCenter).length], [200, ['marketing-client'], 0], 'an unmatched Host now goes to the new default, marketing')
  const byNewHost = await soapPost(s.main, getOption(session, security), { host: 'mc.proxy.internal' }, 'xtk:session#GetOption')
  t.same([byNewHost.status, soapCalls(s.messageCenter).map(bearerClient)], [200, ['events-client']], 'the new host selects Message Center')
  const onListener = await soapPost(s.mc, getOption(session, security), {}, 'xtk:session#GetOption')
  t.equal(onListener.status, 200, 'Message Center\'s unchanged settings kept its pools: its listener still serves')

  // Message Center removed (its listener stays open until a restart, and selects nothing), its listener reported.
  const removed = parseConfig(s.yaml
    .replace(/ {2}messageCenter:\n(?: {4}.*\n)+/, '')
    .replace('technicalAccount: { marketing: marketing, messageCenter: events }', 'technicalAccount: { marketing: marketing }')
    .replace('defaultCampaign: messageCenter', 'defaultCampaign: marketing'), { source: 'test', env: {} })
  t.same(await s.server.reload(removed), { ok: true, restartRequired: ['campaigns.messageCenter.listen'], tokensRenewed: false }, 'removing an instance with its own listener: the listener is named for the restart')
  const before = s.messageCenter.requests.length
  const gone = await soapPost(s.mc, getOption(session, security), {}, 'xtk:session#GetOption')
  t.same([gone.status, s.messageCenter.requests.length], [PROXY_FAULTS.misdirected.status, before], 'its listener selects no instance any more: 421, nothing forwarded')
  t.ok(s.logs.some(line => line.includes('change only with a restart') && line.includes('campaigns.messageCenter.listen')), 'the warning names it')
})

t.test('the instances\' listeners serve the main listener\'s TLS, re-read on reload, and close with the proxy', async t => {
  const s = await startStack(t, { tls: true })
  const mcUrl = s.server.campaignListenerUrls.get('messageCenter') as string
  t.match(mcUrl, /^https:\/\//, 'an instance listener is HTTPS like the main one')
  const get = async (url: string): Promise<number> => await new Promise((resolve, reject) => {
    httpsRequest(url, { ca: readFileSync(tlsFile('ca.pem')), agent: false }, res => { res.resume(); res.on('end', () => { resolve(res.statusCode ?? 0) }) }).on('error', reject).end()
  })
  t.equal(await get(`${mcUrl}/r/test`), 200, 'and forwards to its instance')
  t.equal(s.messageCenter.requests.at(-1)?.url, '/r/test', 'Message Center answered it')
  t.same(await s.server.reload(s.config), { ok: true, restartRequired: [], tokensRenewed: false }, 'the TLS files are read again for every listener')
  await s.server.close()
  await t.rejects(get(`${mcUrl}/r/test`), { code: 'ECONNREFUSED' }, 'the instance listener is closed with the proxy')
})

t.test('an instance listener that cannot listen fails the start, and releases the others', async t => {
  const taken = createNetServer().listen(0, '127.0.0.1')
  await new Promise(resolve => taken.once('listening', resolve))
  t.teardown(() => { taken.close() })
  const port = (taken.address() as AddressInfo).port
  const yaml = `
listen: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
campaigns:
  marketing: { url: 'http://127.0.0.1:1' }
  messageCenter: { url: 'http://127.0.0.1:2', listen: { host: 127.0.0.1, port: ${port} } }
defaultCampaign: marketing
`
  const config = parseConfig(yaml, { source: 'test', env: {} })
  await t.rejects(startServer(config, createLogger('silent', new Writable({ write (_c, _e, done) { done() } }))), { code: 'EADDRINUSE' }, 'the port in use is the error')
})

interface Readiness {
  status: string
  accounts: Array<{ account: string, hasToken: boolean, neededBy?: string[] }>
  campaigns: Array<{ campaign: string, ready: boolean, accounts: Array<{ account: string, hasToken: boolean }> }>
}

t.test('/readyz lists each instance with the accounts it uses, and names the instances an account without a token is needed by', async t => {
  const ready = await startStack(t, { extra: 'wsdl: { technicalAccount: marketing }' })
  const okAnswer = await send(`${ready.server.adminUrl}/readyz`)
  t.equal(okAnswer.status, 200, 'every account has a token: ready')
  t.same((JSON.parse(okAnswer.text) as Readiness).campaigns, [
    { campaign: 'marketing', ready: true, accounts: [{ account: 'marketing', hasToken: true }] },
    { campaign: 'messageCenter', ready: true, accounts: [{ account: 'marketing', hasToken: true }, { account: 'events', hasToken: true }] },
  ], 'each instance with its accounts (wsdl.technicalAccount on every instance, the map\'s pairs)')

  const s = await startStack(t, { imsRefuses: 'events' })
  const answer = await send(`${s.server.adminUrl}/readyz`)
  t.equal(answer.status, 503, 'IMS refusing one account: not ready')
  const detail = JSON.parse(answer.text) as Readiness
  t.same(detail.accounts.map(a => [a.account, a.hasToken, a.neededBy]), [['marketing', true, undefined], ['events', false, ['messageCenter']]], 'the account without a token names the instance that needs it')
  t.same(detail.campaigns, [
    { campaign: 'marketing', ready: true, accounts: [{ account: 'marketing', hasToken: true }] },
    { campaign: 'messageCenter', ready: false, accounts: [{ account: 'events', hasToken: false }] },
  ], 'the instance lacking a token is the one not ready')
  const { session, security } = await logon(s.mkt, 'mc')
  const served = await soapPost(s.mkt, getOption(session, security), {}, 'xtk:session#GetOption')
  t.equal(served.status, 200, 'the instance whose account has a token is still served')
  t.same(soapCalls(s.marketing).map(bearerClient), ['marketing-client'], 'with its account')
})

/** The access lines logged so far, parsed. */
const accessLines = (s: Stack): Array<{ campaign?: string, integration?: string, account?: string, status: number }> =>
  s.logs.filter(line => line.includes('"msg":"request"')).map(line => JSON.parse(line) as { campaign?: string, integration?: string, account?: string, status: number })

t.test('the access line and the request metrics carry the instance', async t => {
  const s = await startStack(t)
  const { session, security } = await logon(s.mkt, 'mc')
  t.equal((await soapPost(s.mc, getOption(session, security), {}, 'xtk:session#GetOption')).status, 200, 'a call on the Message Center listener')
  t.equal((await soapPost(s.main, getOption(session, security), { host: 'campaign.example.com' }, 'xtk:session#GetOption')).status, 421, 'a call no instance is selected for')
  // The access line is written when the answer has ended, which the client may see first.
  for (let i = 0; i < 500 && accessLines(s).length < 3; i++) await new Promise(resolve => setImmediate(resolve))
  t.same(accessLines(s).map(l => [l.campaign, l.integration, l.account, l.status]), [
    ['marketing', 'website-events', undefined, 200],
    ['messageCenter', 'website-events', 'events', 200],
    [undefined, undefined, undefined, 421],
  ], 'each line names its instance (none when none was selected)')
  t.same(soapCalls(s.messageCenter).map(bearerClient), ['events-client'], 'the call the line names reached Message Center')
  const metrics = (await send(`${s.server.adminUrl}/metrics`)).text
  t.match(metrics, /^campaign_ims_proxy_requests_total\{campaign="marketing",integration="website-events",soap_method="xtk:session#Logon",auth_path="logon",status="200",fault=""\} 1$/m, 'requests_total by instance: the Logon on marketing')
  t.match(metrics, /^campaign_ims_proxy_requests_total\{campaign="messageCenter",integration="website-events",soap_method="xtk:session#GetOption",auth_path="session",status="200",fault=""\} 1$/m, 'the call on Message Center')
  t.match(metrics, /^campaign_ims_proxy_requests_total\{campaign="",[^}]*status="421",fault="PRX-000017"\} 1$/m, 'the misdirected call, without an instance')
  t.match(metrics, /^campaign_ims_proxy_upstream_duration_seconds_count\{campaign="messageCenter",integration="website-events"\} 1$/m, 'Campaign\'s latency by instance')
})
