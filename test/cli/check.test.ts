// Acceptance (operations): `check` against the simulators prints a table and
// exits 0; a wrong secret, a wrong scope, IMS down, Campaign down and
// Campaign refusing the token each give their own message and exit code.
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { CHECK_EXIT } from '../../src/check.js'
import { main } from '../../src/commands.js'
import { CampaignSimulator, type CampaignSimulatorOptions } from '../../src/sim/campaign.js'
import { ImsSimulator } from '../../src/sim/ims.js'
import { tempDir } from '../fixtures/config.js'
import { captureIo } from '../fixtures/io.js'
import { ACCOUNTS } from '../fixtures/proxy-stack.js'

interface Setup {
  readonly ims: ImsSimulator
  readonly campaign: CampaignSimulator
  readonly dir: string
}

async function setup (t: Test, campaign: CampaignSimulatorOptions = {}): Promise<Setup> {
  const ims = await ImsSimulator.start({ clients: Object.values(ACCOUNTS) })
  const sim = await CampaignSimulator.start({ authority: ims.authority, imsMandatory: true, ...campaign })
  t.teardown(async () => { await Promise.all([ims.close(), sim.close()]) })
  return { ims, campaign: sim, dir: await tempDir(t) }
}

/** A loopback port nothing listens on (a server bound then closed). */
async function closedPort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

interface Options { campaignUrl?: string, tokenUrl?: string, marketingSecret?: string, marketingScopes?: string, extra?: string, imsTimeout?: number, campaignCaFile?: string }

async function check (s: Setup, options: Options = {}): Promise<{ code: number, out: string }> {
  const file = join(s.dir, 'proxy.yaml')
  await writeFile(join(s.dir, 'events-secret'), 'events-secret\n')
  await writeFile(file, `
campaign: { url: '${options.campaignUrl ?? s.campaign.url}', timeoutSeconds: 5, connectTimeoutSeconds: 2${options.campaignCaFile === undefined ? '' : `, caFile: '${options.campaignCaFile}'`} }
ims: { tokenUrl: '${options.tokenUrl ?? s.ims.tokenUrl}', timeoutSeconds: ${options.imsTimeout ?? 5} }
technicalAccounts:
  marketing: { clientId: marketing-client, clientSecret: ${options.marketingSecret ?? 'marketing-secret'}, scopes: ${options.marketingScopes ?? '[AdobeID, openid, campaign_sdk]'} }
  events: { clientId: events-client, clientSecret: { file: events-secret }, scopes: [AdobeID, openid, campaign_sdk] }
${options.extra ?? ''}
`)
  const io = captureIo()
  const code = await main(['check', '--config', file], io)
  return { code, out: io.out() + io.err() }
}

t.test('every account works: a table, exit 0', async t => {
  const s = await setup(t)
  const { code, out } = await check(s)
  t.equal(code, CHECK_EXIT.ok, 'exit 0')
  t.match(out, /^account +token +expires in +Campaign operator +build +result$/m, 'a table with its header')
  t.match(out, /^marketing +ok \([0-9a-f]{12}\) +23h59m +marketingclient@techacct\.adobe\.com +9372 +ok$/m, 'marketing: token fingerprint, expiry, operator, build')
  t.match(out, /^events +ok \([0-9a-f]{12}\) +23h59m +eventsclient@techacct\.adobe\.com +9372 +ok$/m, 'events too (its secret read from a file)')
  t.match(out, 'check: every technical account works', 'and a verdict')
  t.notMatch(out, /marketing-secret|events-secret/, 'no secret is printed')
})

t.test('a wrong client secret: exit 3, names the keys to fix', async t => {
  const s = await setup(t)
  const { code, out } = await check(s, { marketingSecret: 'not-the-secret' })
  t.equal(code, CHECK_EXIT.imsRefused, 'exit 3')
  t.match(out, /^marketing +FAILED +- +- +- +IMS refused the credential$/m, 'the account fails in the table')
  t.match(out, 'marketing: IMS refused the credential (HTTP 401 invalid_client): check technicalAccounts.marketing.clientId and clientSecret', 'the reason (status and code) and the fix')
  t.match(out, /^events +ok/m, 'the other account is still checked')
  t.match(out, 'check: 1 of 2 technical accounts failed (exit 3)', 'verdict')
})

t.test('a wrong scope: exit 3, names scopes', async t => {
  const s = await setup(t)
  const { code, out } = await check(s, { marketingScopes: '[AdobeID, read_organizations]' })
  t.equal(code, CHECK_EXIT.imsRefused, 'exit 3')
  t.match(out, 'IMS refused the credential (HTTP 400 invalid_scope): make technicalAccounts.marketing.scopes match', 'the reason and the fix')
})

t.test('IMS echoing the client secret in its error: the code and status are printed, never the text', async t => {
  const s = await setup(t)
  const echo = (body: object) => ({ kind: 'status' as const, status: 401, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
  s.ims.faults.inject(echo({ error: 'invalid_client', error_description: 'bad client_secret=marketing-secret' }), { times: 1 })
  const described = await check(s)
  t.equal(described.code, CHECK_EXIT.imsRefused, 'exit 3')
  t.match(described.out, 'marketing: IMS refused the credential (HTTP 401 invalid_client): check', 'the status and the code')
  t.notMatch(described.out, /marketing-secret|bad client_secret/, 'not the description, which holds the secret')
  s.ims.faults.inject(echo({ error: `invalid_client client_secret=marketing-secret${'x'.repeat(10_240)}` }), { times: 1 })
  const coded = await check(s)
  t.equal(coded.code, CHECK_EXIT.imsUnavailable, 'a code that is not invalid_client is not a refusal of the credential (exit 4)')
  t.match(coded.out, 'marketing: IMS did not issue a token (IMS answered HTTP 401): check ims.tokenUrl', 'the status alone')
  t.notMatch(coded.out, /marketing-secret|xxxxxxxx/, 'the code field holding the secret, 10 KB long, is not printed')
})

t.test('an unreadable secret file: the configuration is invalid', async t => {
  const s = await setup(t)
  const { code, out } = await check(s, { marketingSecret: '{ file: /nonexistent/secret }' })
  t.equal(code, CHECK_EXIT.config, 'a missing file is already a configuration problem (exit 2)')
  t.match(out, 'technicalAccounts.marketing.clientSecret.file', 'naming the key')
  await writeFile(join(s.dir, 'empty'), '')
  const empty = await check(s, { marketingSecret: `{ file: '${join(s.dir, 'empty')}' }` })
  t.equal(empty.code, CHECK_EXIT.config, 'an empty secret file too')
})

t.test('IMS unreachable or failing: exit 4', async t => {
  const s = await setup(t)
  const port = await closedPort()
  const down = await check(s, { tokenUrl: `http://127.0.0.1:${port}/ims/token/v3` })
  t.equal(down.code, CHECK_EXIT.imsUnavailable, 'a closed port: exit 4')
  t.match(down.out, `marketing: IMS could not be reached at http://127.0.0.1:${port}/ims/token/v3 (ECONNREFUSED): check ims.tokenUrl`, 'with the reason')
  s.ims.faults.inject({ kind: 'latency', ms: 1500 }, { times: 1 })
  const slow = await check(s, { imsTimeout: 0.3 })
  t.equal(slow.code, CHECK_EXIT.imsUnavailable, 'IMS slower than ims.timeoutSeconds: exit 4')
  t.match(slow.out, 'no answer within ims.timeoutSeconds (0.3 s)', 'saying so')
  s.ims.faults.inject({ kind: 'status', status: 503 }, { times: 2 })
  const failing = await check(s)
  t.equal(failing.code, CHECK_EXIT.imsUnavailable, 'IMS answering 503: exit 4')
  t.match(failing.out, /marketing: IMS did not issue a token \(.*503.*\): check ims\.tokenUrl and try again later/, 'with the status')
})

t.test('Campaign unreachable or not Campaign: exit 5', async t => {
  const s = await setup(t)
  const port = await closedPort()
  const down = await check(s, { campaignUrl: `http://127.0.0.1:${port}` })
  t.equal(down.code, CHECK_EXIT.campaignUnavailable, 'a closed port: exit 5')
  t.match(down.out, /^marketing +ok \([0-9a-f]{12}\) +23h59m +- +- +Campaign unreachable$/m, 'the token is fine, Campaign is not')
  t.match(down.out, `marketing: Campaign could not be reached at http://127.0.0.1:${port} (ECONNREFUSED): check campaign.url`, 'with the reason')
  const wrong = await check(s, { campaignUrl: new URL(s.ims.tokenUrl).origin })
  t.equal(wrong.code, CHECK_EXIT.campaignUnavailable, 'another server: exit 5')
  t.match(wrong.out, /GET http:\/\/127\.0\.0\.1:\d+\/r\/test answered HTTP 404 without a build: is campaign\.url the Campaign instance\?/, 'it does not look like Campaign')
})

t.test('Campaign failing GetUserInfo without a SOAP answer, or cutting the connection: exit 5', async t => {
  const s = await setup(t)
  const ca = fileURLToPath(new URL('../fixtures/tls/ca.pem', import.meta.url))
  s.campaign.faults.inject({ kind: 'status', status: 503, body: 'busy' }, { soapMethod: 'xtk:session#GetUserInfo', times: 1 })
  const busy = await check(s, { campaignCaFile: ca })
  t.equal(busy.code, CHECK_EXIT.campaignUnavailable, 'exit 5 (a CA file for Campaign is accepted too)')
  t.match(busy.out, 'marketing: Campaign answered xtk:session#GetUserInfo with HTTP 503 and no SOAP answer', 'says what Campaign answered')
  s.campaign.faults.inject({ kind: 'reset' }, { soapMethod: 'xtk:session#GetUserInfo', times: 1 })
  const cut = await check(s)
  t.equal(cut.code, CHECK_EXIT.campaignUnavailable, 'exit 5')
  t.match(cut.out, /^marketing +ok \([0-9a-f]{12}\) +23h59m +- +9372 +Campaign unreachable$/m, 'the build was read before the connection was cut')
})

t.test('Campaign refusing the technical account: exit 6', async t => {
  const s = await setup(t, { allowedImsClients: ['events-client'] })
  const { code, out } = await check(s)
  t.equal(code, CHECK_EXIT.campaignRefused, 'exit 6')
  t.match(out, /^marketing +ok \([0-9a-f]{12}\) +23h59m +- +9372 +Campaign refused the token$/m, 'the token is fine, Campaign refuses it')
  t.match(out, /marketing: Campaign refused the technical account's token \(HTTP 500: [^)]*\): add the credential to the Campaign product profile/, 'with the fix')
  t.match(out, /^events +ok .* ok$/m, 'the account in the product profile works')
})

t.test('a Campaign fault string longer than a message: printed as its length and digest', async t => {
  const s = await setup(t)
  const faultstring = `XSV-350008 ${'echo '.repeat(100)}`
  const fault = `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode><faultstring>${faultstring}</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`
  s.campaign.faults.inject({ kind: 'status', status: 500, body: fault, headers: { 'content-type': 'text/xml' } }, { soapMethod: 'xtk:session#GetUserInfo', times: 1 })
  const { code, out } = await check(s)
  t.equal(code, CHECK_EXIT.campaignRefused, 'exit 6')
  t.match(out, `marketing: Campaign refused the technical account's token (HTTP 500: (${faultstring.length} characters, sha256:`, 'the fault string by its length and digest')
  t.notMatch(out, 'echo echo', 'not its text')
})

t.test('invalid configuration, usage', async t => {
  const s = await setup(t)
  const invalid = await check(s, { extra: 'colour: blue' })
  t.equal(invalid.code, CHECK_EXIT.config, 'exit 2')
  t.match(invalid.out, /colour/, 'the problem is listed')
  t.match(invalid.out, 'check: the configuration is invalid (exit 2)', 'verdict')
  const io = captureIo()
  t.equal(await main(['check'], io), 2, 'without --config: usage error')
  t.match(io.err(), '--config FILE is required', 'says so')
  const help = captureIo()
  t.equal(await main(['check', '--help'], help), 0, '--help')
  t.match(help.out(), 'Exit codes:', 'documents the exit codes')
  const none = join(s.dir, 'none.yaml')
  await writeFile(none, `campaign: { url: '${s.campaign.url}' }\n`)
  const empty = captureIo()
  t.equal(await main(['check', '--config', none], empty), 0, 'no account: nothing to check, exit 0')
  t.match(empty.out(), 'No technical account is configured', 'says so')
})

// Several Campaign instances (docs/configuration.md#several-campaign-instances): one row per
// (instance, account) pair the configuration uses, each instance called with its own accounts.
interface TwoInstances {
  readonly ims: ImsSimulator
  readonly marketing: CampaignSimulator
  readonly messageCenter: CampaignSimulator
  readonly dir: string
}

/** Two simulated instances, each accepting only its own technical account's IMS client. */
async function twoInstances (t: Test): Promise<TwoInstances> {
  const ims = await ImsSimulator.start({ clients: Object.values(ACCOUNTS) })
  const sim = async (client: string, instanceName: string): Promise<CampaignSimulator> =>
    await CampaignSimulator.start({ authority: ims.authority, imsMandatory: true, allowedImsClients: [client], instanceName })
  const marketing = await sim('marketing-client', 'acme_mkt_prod1')
  const messageCenter = await sim('events-client', 'acme_rt_prod1')
  t.teardown(async () => { await Promise.all([ims.close(), marketing.close(), messageCenter.close()]) })
  return { ims, marketing, messageCenter, dir: await tempDir(t) }
}

async function checkTwo (s: TwoInstances, rest: string): Promise<{ code: number, out: string }> {
  const file = join(s.dir, 'proxy.yaml')
  await writeFile(file, `
campaigns:
  marketing: { url: '${s.marketing.url}', timeoutSeconds: 5 }
  messageCenter: { url: '${s.messageCenter.url}', timeoutSeconds: 5 }
ims: { tokenUrl: '${s.ims.tokenUrl}', timeoutSeconds: 5 }
technicalAccounts:
  marketing: { clientId: marketing-client, clientSecret: marketing-secret, scopes: [AdobeID, openid, campaign_sdk] }
  messageCenter: { clientId: events-client, clientSecret: events-secret, scopes: [AdobeID, openid, campaign_sdk] }
${rest}
`)
  const io = captureIo()
  const code = await main(['check', '--config', file], io)
  return { code, out: io.out() + io.err() }
}

/** The IMS clients whose bearer a simulator received with xtk:session#GetUserInfo, in order. */
function userInfoClients (sim: CampaignSimulator): string[] {
  return sim.requests.filter(r => r.soapMethod === 'xtk:session#GetUserInfo').map(r => {
    const bearer = /^Bearer (.+)$/.exec(String(r.headers.authorization))?.[1] as string
    return (JSON.parse(Buffer.from(bearer.split('.')[1] as string, 'base64url').toString('utf8')) as { client_id: string }).client_id
  })
}

t.test('several instances, an account per instance: one row per pair, each instance called with its own account, exit 0', async t => {
  const s = await twoInstances(t)
  const { code, out } = await checkTwo(s, `
  spare: { clientId: marketing-client, clientSecret: marketing-secret, scopes: [AdobeID, openid, campaign_sdk] }
integrations:
  - { name: website-events, networks: [10.0.0.0/8], technicalAccount: { marketing: marketing, messageCenter: messageCenter } }
  - { name: legacy-crm, mode: passthrough, networks: [10.1.0.0/16] }
`)
  t.equal(code, CHECK_EXIT.ok, 'exit 0')
  t.match(out, `Campaign instances marketing ${s.marketing.url}, messageCenter ${s.messageCenter.url}`, 'the instances are named with their URLs')
  t.match(out, /^campaign +account +token +expires in +Campaign operator +build +result$/m, 'the table gains a campaign column')
  t.match(out, /^marketing +marketing +ok \([0-9a-f]{12}\) +23h59m +marketingclient@techacct\.adobe\.com +9372 +ok$/m, 'marketing with its account')
  t.match(out, /^messageCenter +messageCenter +ok \([0-9a-f]{12}\) +23h59m +eventsclient@techacct\.adobe\.com +9372 +ok$/m, 'Message Center with its account')
  t.match(out, /^marketing +spare +ok .* ok$/m, 'an account no integration uses is checked on the first instance (no defaultCampaign)')
  t.equal(out.split('\n').filter(line => /^(marketing|messageCenter) +\S+ +ok \(/.test(line)).length, 3, 'three rows: no pair the configuration does not use')
  t.same(userInfoClients(s.marketing), ['marketing-client', 'marketing-client'], 'marketing was called with the marketing client only (marketing, spare)')
  t.same(userInfoClients(s.messageCenter), ['events-client'], 'Message Center with the events client only')
  t.match(out, 'check: every technical account works on every instance it is used on', 'verdict')
})

t.test('several instances, an account used where its instance refuses it: exit 6 naming the instance', async t => {
  const s = await twoInstances(t)
  const { code, out } = await checkTwo(s, `
defaultCampaign: messageCenter
wsdl: { technicalAccount: messageCenter }
integrations:
  - { name: website-events, networks: [10.0.0.0/8], technicalAccount: marketing }
`)
  t.equal(code, CHECK_EXIT.campaignRefused, 'exit 6')
  t.match(out, /^messageCenter +marketing +ok \([0-9a-f]{12}\) +23h59m +- +9372 +Campaign refused the token$/m, 'an account given as one name is checked on every instance: Message Center refuses marketing')
  t.match(out, /^marketing +messageCenter +ok .* Campaign refused the token$/m, 'wsdl.technicalAccount too: marketing refuses it')
  t.match(out, /^marketing +marketing +ok .* ok$/m, 'marketing accepts its own')
  t.match(out, /^messageCenter +messageCenter +ok .* ok$/m, 'and Message Center its own')
  t.match(out, /marketing on messageCenter: Campaign instance messageCenter refused the technical account's token \(HTTP 500: [^)]*\): add the credential to this instance's Campaign product profile/, 'the reason names the instance')
  t.match(out, 'messageCenter on marketing: Campaign instance marketing refused', 'both refusals are named')
  t.match(out, 'check: 2 of 4 instance and technical account pairs failed (exit 6)', 'verdict')
  t.equal(s.ims.tokenRequests('marketing-client'), 1, 'one token request per account, whatever the number of instances it is checked on')
  t.same(userInfoClients(s.messageCenter), ['marketing-client', 'events-client'], 'Message Center was called with both accounts')
})

t.test('several instances, one unreachable: exit 5 naming the instance and its keys', async t => {
  const s = await twoInstances(t)
  await s.messageCenter.close()
  const { code, out } = await checkTwo(s, `
integrations:
  - { name: website-events, networks: [10.0.0.0/8], technicalAccount: { marketing: marketing, messageCenter: messageCenter } }
`)
  t.equal(code, CHECK_EXIT.campaignUnavailable, 'exit 5')
  t.match(out, `messageCenter on messageCenter: Campaign instance messageCenter could not be reached at ${s.messageCenter.url} (ECONNREFUSED): check campaigns.messageCenter.url, the network path and campaigns.messageCenter.caFile`, 'names the instance and its keys')
  t.match(out, /^marketing +marketing +ok .* ok$/m, 'the other instance is still checked')
})
