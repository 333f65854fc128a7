// Acceptance (legacy sessions): acc-js-sdk 1.2.0 logs on through the proxy
// with its old login/password and works against a strict, IMS-mandatory
// Campaign; proxy sessions expire and the SDK logs on again by itself.
import sdk from '@adobe/acc-js-sdk'
import t from 'tap'
import { hashPassword } from '../../src/auth/passwords.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'

// acc-js-sdk cuts passwords at the first '/' (a client quirk), so the test password has none.
const PASSWORD = 'etl-p@ss<&>x'
const query = { schema: 'nms:extAccount', operation: 'select', select: { node: [{ expr: '@id' }, { expr: '@name' }] }, where: { condition: [{ expr: "@name='ffda'" }] } }

async function etlIntegration (): Promise<string> {
  const hash = await hashPassword(PASSWORD, { N: 1024 })
  return `  - { name: nightly-etl, login: etl_operator, passwordHash: '${hash}', technicalAccount: marketing }`
}

t.test('ofUserAndPassword through the proxy: logon, getOption, query, write, logoff', async t => {
  const s = await startProxyStack(t, { integrations: await etlIntegration(), extra: 'unknownCallers: reject' })
  const client = await sdk.init(sdk.ConnectionParameters.ofUserAndPassword(s.server.proxyUrl, 'etl_operator', PASSWORD))
  await client.logon()
  t.equal(client.application.operator.login, 'marketingclient@techacct.adobe.com', "the LogonResponse carries the technical account's userInfo from Campaign")
  t.equal(client.application.buildNumber, '9372', "and Campaign's build number")
  t.equal(await client.getOption('XtkDatabaseId'), 'uD5A3F1B7C2E94A0F8B6D1E3C5A7F9B2D4E6C8A0B', 'getOption returns the same value as direct')
  t.same(await client.NLWS.xtkQueryDef.create(query).executeQuery(), { extAccount: [{ id: '2087', name: 'ffda' }] }, 'the query returns the same rows as direct')
  await client.NLWS.xtkSession.write({ xtkschema: 'nms:recipient', _operation: 'insert', email: 'etl@example.com' })
  t.same(s.campaign.store.rows('nms:recipient').map(r => r.email), ['etl@example.com'], 'the write reached Campaign')
  await client.logoff()
  t.notOk(client.isLogged(), 'logoff succeeds')

  const token = await s.server.tokens.get('marketing')
  const soapCalls = s.campaign.requests.filter(r => r.soapMethod !== undefined && r.soapMethod !== 'xtk:session#GetUserInfo')
  t.same([...new Set(soapCalls.map(r => r.soapMethod))].sort(), ['xtk:persist#GetEntityIfMoreRecent', 'xtk:persist|xtk:session#Write', 'xtk:queryDef#ExecuteQuery', 'xtk:session#GetOption'], 'Logon and Logoff never reached Campaign; every other call did')
  t.ok(soapCalls.every(r => r.headers.authorization === `Bearer ${token.value}`), 'every upstream call carried the right bearer')
  t.ok(soapCalls.every(r => /<sessiontoken xsi:type="xsd:string"><\/sessiontoken>/.test(r.body.toString())), 'with an empty first parameter')
  t.ok(soapCalls.every(r => r.headers['x-session-token'] === undefined && r.headers['x-security-token'] === undefined && r.headers.cookie === undefined), 'and no legacy credential header')
  t.ok(soapCalls.every(r => !/<Cookie>[^<]|<X-Security-Token>[^<]/.test(r.body.toString())), 'and empty SOAP Header credentials')
})

t.test('refreshClient: an expired proxy session makes the SDK log on again', async t => {
  let offset = 0
  const s = await startProxyStack(t, { integrations: await etlIntegration(), sessionTtlSeconds: 60, hooks: { now: () => Date.now() + offset } })
  let logons = 0
  const parameters = sdk.ConnectionParameters.ofUserAndPassword(s.server.proxyUrl, 'etl_operator', PASSWORD, {
    refreshClient: async () => {
      logons++
      const fresh = await sdk.init(parameters)
      await fresh.logon()
      return fresh
    },
  })
  const client = await sdk.init(parameters)
  await client.logon()
  t.equal(await client.getOption('XtkDatabaseId', false), 'uD5A3F1B7C2E94A0F8B6D1E3C5A7F9B2D4E6C8A0B', 'works within the session')
  offset = 61_000
  t.equal(await client.getOption('XtkDatabaseId', false), 'uD5A3F1B7C2E94A0F8B6D1E3C5A7F9B2D4E6C8A0B', 'after expiry the call still succeeds')
  t.equal(logons, 1, 'because the SDK logged on again once after the XSV-350008 fault')
})

t.test('ofSessionToken with inline login/password pushes events; a wrong password reaches nothing', async t => {
  const s = await startProxyStack(t, { integrations: await etlIntegration(), extra: 'unknownCallers: reject' })
  const client = await sdk.init(sdk.ConnectionParameters.ofSessionToken(s.server.proxyUrl, `etl_operator/${PASSWORD}`))
  await client.logon()
  t.equal(await client.NLWS.nmsRtEvent.pushEvent({ type: 'welcome', email: 'ann@example.com' }), '73000001', 'the first event goes through')
  t.equal(await client.NLWS.nmsRtEvent.pushEvent({ type: 'welcome', email: 'bob@example.com' }), '73000002', 'and the next, from the verification cache')
  const before = s.campaign.requests.length
  const wrong = await sdk.init(sdk.ConnectionParameters.ofSessionToken(s.server.proxyUrl, 'etl_operator/wrong'))
  await wrong.logon()
  const error = await wrong.NLWS.nmsRtEvent.pushEvent({ type: 'welcome' }).then(() => undefined, (err: unknown) => err) as { detail?: string } | undefined
  t.match(error?.detail, /XSV-350012 Invalid login or password/, 'a wrong inline password gets the invalid-login fault')
  t.equal(s.campaign.requests.length, before, 'and nothing reached Campaign')
})
