// The real @adobe/acc-js-sdk 1.2.0, unchanged, against the simulators directly.
import sdk, { type Client } from '@adobe/acc-js-sdk'
import t, { type Test } from 'tap'
import { CampaignSimulator } from '../../src/sim/campaign.js'
import { ImsSimulator } from '../../src/sim/ims.js'
import { TokenAuthority } from '../../src/sim/ims-tokens.js'

const CLIENT = { clientId: 'acme-campaign-client', secrets: ['s3cr3t-value'], scopes: ['AdobeID', 'openid', 'campaign_sdk'] }

async function startSims (t: Test, options: { imsMandatory?: boolean, allowUserPassword?: boolean } = {}) {
  let clock = Date.parse('2026-11-23T09:00:00Z')
  const authority = new TokenAuthority({ now: () => clock })
  const ims = await ImsSimulator.start({ clients: [CLIENT], authority })
  const campaign = await CampaignSimulator.start({ authority, strict: true, ...options })
  t.teardown(async () => { await Promise.all([ims.close(), campaign.close()]) })
  return { ims, campaign, advance: (ms: number) => { clock += ms } }
}

async function imsToken (ims: ImsSimulator): Promise<string> {
  const response = await fetch(ims.tokenUrl, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT.clientId, client_secret: 's3cr3t-value', scope: CLIENT.scopes.join(',') }),
  })
  const body = await response.json() as { access_token: string }
  return body.access_token
}

t.test('ofUserAndPassword: logon, getOption, queryDef select, write, logoff', async t => {
  const { campaign } = await startSims(t)
  const client: Client = await sdk.init(sdk.ConnectionParameters.ofUserAndPassword(campaign.url, 'admin', 'admin'))
  await client.logon()
  t.ok(client.isLogged(), 'the SDK considers itself logged on')
  t.equal(client.application.operator.login, 'admin', 'userInfo names the operator')
  t.equal(client.application.buildNumber, '9372', 'serverInfo carries the build number')
  t.equal(campaign.sessionCount, 1, 'the simulator opened one session')

  t.equal(await client.getOption('XtkDatabaseId'), 'uD5A3F1B7C2E94A0F8B6D1E3C5A7F9B2D4E6C8A0B', 'getOption returns the database id')

  const query = client.NLWS.xtkQueryDef.create({
    schema: 'nms:extAccount',
    operation: 'select',
    select: { node: [{ expr: '@id' }, { expr: '@name' }] },
    where: { condition: [{ expr: "@name='ffda'" }] },
  })
  t.same(await query.executeQuery(), { extAccount: [{ id: '2087', name: 'ffda' }] }, 'the select returns the matching external account only')

  await client.NLWS.xtkSession.write({ xtkschema: 'nms:recipient', _operation: 'insert', email: 'ann@example.com', firstName: 'Ann' })
  const written = client.NLWS.xtkQueryDef.create({
    schema: 'nms:recipient', operation: 'get', select: { node: [{ expr: '@email' }, { expr: '@firstName' }] }, where: { condition: [{ expr: "@email = 'ann@example.com'" }] },
  })
  t.same(await written.executeQuery(), { email: 'ann@example.com', firstName: 'Ann' }, 'the written recipient is read back')

  const soapMethods = campaign.requests.map(r => r.soapMethod)
  t.ok(soapMethods.includes('xtk:persist|xtk:session#Write'), 'write went out as xtk:persist|xtk:session#Write')

  await client.logoff()
  t.notOk(client.isLogged(), 'the SDK is logged off')
  t.equal(campaign.sessionCount, 0, 'Logoff ended the session in the simulator')
})

t.test('ofImsBearerToken with sessionInfo: operator from /r/test + GetUserInfo', async t => {
  const { ims, campaign } = await startSims(t, { imsMandatory: true })
  const token = await imsToken(ims)
  const client = await sdk.init(sdk.ConnectionParameters.ofImsBearerToken(campaign.url, token, { sessionInfo: true }))
  await client.logon()
  t.equal(client.application.operator.login, 'acmecampaignclient@techacct.adobe.com', 'the technical account operator, named by its email')
  t.equal(client.application.instanceName, 'acme_mkt_stage1', 'instance name from /r/test')
  t.equal(await client.getOption('XtkDatabaseId'), 'uD5A3F1B7C2E94A0F8B6D1E3C5A7F9B2D4E6C8A0B', 'a bearer call succeeds')
  const bearerCalls = campaign.requests.filter(r => r.soapMethod !== undefined)
  t.ok(bearerCalls.every(r => r.headers.authorization === `Bearer ${token}`), 'every SOAP call carried the bearer token')
  t.same(campaign.requests.map(r => r.url.split('?')[0]).slice(0, 1), ['/r/test'], 'sessionInfo mode starts with GET /r/test')
  t.ok(campaign.requests.some(r => r.soapMethod === 'xtk:session#GetUserInfo'), 'then calls xtk:session#GetUserInfo')
})

t.test('ofSessionToken with mc/<password> pushes an rtEvent when allowUserPassword is on', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true })
  const client = await sdk.init(sdk.ConnectionParameters.ofSessionToken(campaign.url, 'mc/mc-password'))
  await client.logon()
  const first = await client.NLWS.nmsRtEvent.pushEvent({ type: 'order_confirmation', email: 'ann@example.com', origin: 'web', ctx: { orderId: 'A-17' } })
  const second = await client.NLWS.nmsRtEvent.pushEvent({ type: 'order_confirmation', email: 'bob@example.com', origin: 'web' })
  t.equal(first, '73000001', 'PushEvent returns the first event id')
  t.equal(second, '73000002', 'ids increase')
  t.same(campaign.events.map(e => [e.id, e.type, e.attributes.email, e.operator]), [
    [73000001, 'order_confirmation', 'ann@example.com', 'mc'],
    [73000002, 'order_confirmation', 'bob@example.com', 'mc'],
  ], 'both events were recorded for the mc operator')
})

t.test('IMS mandatory: a technical operator cannot log on natively', async t => {
  const { campaign } = await startSims(t, { imsMandatory: true })
  const client = await sdk.init(sdk.ConnectionParameters.ofUserAndPassword(campaign.url, 'crm_operator', 'crm-password'))
  const error = await client.logon().then(() => undefined, (err: unknown) => err) as { detail?: string, statusCode?: number } | undefined
  t.equal(error?.statusCode, 500, 'the fault arrives as an HTTP 500')
  t.match(error?.detail, /<faultstring xsi:type='xsd:string'>XSV-350022 Unable to log on\.<\/faultstring>/, "the SDK error carries Campaign's logon fault")
  t.notOk(client.isLogged(), 'the SDK is not logged on')

  campaign.faultStatus = 200
  const again = await client.logon().then(() => undefined, (err: unknown) => err) as { errorCode?: string, faultString?: string } | undefined
  t.same([again?.errorCode, again?.faultString], ['XSV-350022', 'Unable to log on.'], 'with faults answered as HTTP 200 the SDK parses the code and message itself')

  const admin = await sdk.init(sdk.ConnectionParameters.ofUserAndPassword(campaign.url, 'admin', 'admin'))
  await admin.logon()
  t.ok(admin.isLogged(), 'a non-technical operator still logs on natively')
})

t.test('expired IMS token: the SDK maps the fault to 401', async t => {
  const { ims, campaign, advance } = await startSims(t, { imsMandatory: true })
  const token = await imsToken(ims)
  const client = await sdk.init(sdk.ConnectionParameters.ofImsBearerToken(campaign.url, token))
  await client.logon()
  t.equal(await client.getOption('XtkDatabaseId', false), 'uD5A3F1B7C2E94A0F8B6D1E3C5A7F9B2D4E6C8A0B', 'works while the token is valid')
  advance(86_399 * 1000)
  const error = await client.getOption('XtkDatabaseId', false).then(() => undefined, (err: unknown) => err) as { statusCode?: number, faultString?: string } | undefined
  t.equal(error?.statusCode, 401, 'the SDK reports 401 once the token has expired')
  t.match(error?.faultString, /Session has expired or is invalid/, 'with the session-expired message')
})
