// Compatibility matrix, @adobe/acc-js-sdk 1.2.0 through the proxy in the
// modes legacy integrations use (ofUserAndPassword, inline login/password
// and refreshClient are in test/proxy/legacy-logon-sdk.test.ts), and
// clients that already migrated: their own bearer passes untouched.
import sdk from '@adobe/acc-js-sdk'
import t, { type Test } from 'tap'
import { hashPassword } from '../../src/auth/passwords.js'
import { imsToken } from '../fixtures/campaign-sims.js'
import { soapPost } from '../fixtures/http.js'
import { ACCOUNTS, startProxyStack, type ProxyStack } from '../fixtures/proxy-stack.js'
import { outputText, soapEnvelope } from '../fixtures/soap.js'

const PASSWORD = 'sdk-pass-word'
const DATABASE_ID = 'uD5A3F1B7C2E94A0F8B6D1E3C5A7F9B2D4E6C8A0B'
const LEGACY_HEADERS = ['x-session-token', 'x-security-token', 'cookie'] as const

async function stack (t: Test, extra = ''): Promise<ProxyStack> {
  const hash = await hashPassword(PASSWORD, { N: 1024 })
  return await startProxyStack(t, { integrations: `  - { name: nightly-etl, login: etl_operator, passwordHash: '${hash}', technicalAccount: marketing }`, extra })
}

/** A proxy session, obtained the way any legacy client does: a Logon through the proxy. */
async function proxySession (s: ProxyStack): Promise<{ session: string, security: string }> {
  const logon = await soapPost(s.soapRouter, soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', 'etl_operator'], ['password', PASSWORD], ['parameters', { xml: '' }]] }), {}, 'xtk:session#Logon')
  return { session: outputText(logon.text, 'pstrSessionToken') as string, security: outputText(logon.text, 'pstrSecurityToken') as string }
}

function assertMigrated (t: Test, s: ProxyStack, bearer: string, from: number): void {
  const calls = s.campaign.requests.slice(from).filter(r => r.soapMethod !== undefined)
  t.ok(calls.length > 0, `${calls.length} SOAP calls reached Campaign`)
  t.ok(calls.every(r => r.headers.authorization === `Bearer ${bearer}`), 'each with the technical account\'s bearer')
  t.ok(calls.every(r => LEGACY_HEADERS.every(h => r.headers[h] === undefined)), 'and none of X-Session-Token, X-Security-Token, the session cookie')
  t.ok(calls.every(r => /<sessiontoken xsi:type="xsd:string"><\/sessiontoken>|<sessiontoken xsi:type="xsd:string"\/>/.test(r.body.toString())), 'and an empty session token in the body')
}

t.test('ofSessionAndSecurityToken with a proxy session (token in the body, X-Session-Token, the cookie and X-Security-Token)', async t => {
  const s = await stack(t)
  const { session, security } = await proxySession(s)
  const from = s.campaign.requests.length
  const client = await sdk.init(sdk.ConnectionParameters.ofSessionAndSecurityToken(s.server.proxyUrl, session, security))
  await client.logon()
  t.equal(await client.getOption('XtkDatabaseId', false), DATABASE_ID, 'getOption works')
  assertMigrated(t, s, (await s.server.tokens.get('marketing')).value, from)
  await client.logoff()
  const after = await sdk.init(sdk.ConnectionParameters.ofSessionAndSecurityToken(s.server.proxyUrl, session, security))
  await after.logon()
  const error = await after.getOption('XtkDatabaseId', false).then(() => undefined, (err: unknown) => err) as { faultString?: string } | undefined
  t.match(error?.faultString, 'Session has expired or is invalid', 'after its Logoff the session is refused (the SDK shows XSV-350008 without its code)')
})

t.test('ofSecurityToken with a proxy security token', async t => {
  const s = await stack(t)
  const { security } = await proxySession(s)
  const from = s.campaign.requests.length
  const client = await sdk.init(sdk.ConnectionParameters.ofSecurityToken(s.server.proxyUrl, security))
  await client.logon()
  t.equal(await client.getOption('XtkDatabaseId', false), DATABASE_ID, 'getOption works with the security token alone')
  assertMigrated(t, s, (await s.server.tokens.get('marketing')).value, from)
})

t.test('ofUserAndPassword with noMethodInURL and noSDKHeaders', async t => {
  const s = await stack(t)
  const client = await sdk.init(sdk.ConnectionParameters.ofUserAndPassword(s.server.proxyUrl, 'etl_operator', PASSWORD, { noMethodInURL: true, noSDKHeaders: true }))
  await client.logon()
  t.equal(await client.getOption('XtkDatabaseId', false), DATABASE_ID, 'works')
  const call = s.campaign.requests.findLast(r => r.soapMethod === 'xtk:session#GetOption')
  t.equal(call?.url, '/nl/jsp/soaprouter.jsp', 'no method in the URL: the proxy found it in the body')
  t.equal(call?.headers['acc-sdk-version'], undefined, 'no SDK headers')
  t.equal(call?.headers.authorization, `Bearer ${(await s.server.tokens.get('marketing')).value}`, 'the bearer was injected')
})

t.test('ofImsBearerToken (already migrated): its own token passes untouched', async t => {
  const s = await stack(t)
  const own = await imsToken(s.ims, ACCOUNTS.events)
  const from = s.campaign.requests.length
  const client = await sdk.init(sdk.ConnectionParameters.ofImsBearerToken(s.server.proxyUrl, own))
  await client.logon()
  t.equal(await client.getOption('XtkDatabaseId', false), DATABASE_ID, 'works through the proxy')
  const calls = s.campaign.requests.slice(from).filter(r => r.soapMethod !== undefined)
  t.ok(calls.length > 0 && calls.every(r => r.headers.authorization === `Bearer ${own}`), "Campaign saw the client's own bearer, not the proxy's")
})

t.test('ofBearerToken (BearerTokenLogon): forwarded untouched, Campaign\'s own session used after it', async t => {
  const s = await stack(t)
  const own = await imsToken(s.ims, ACCOUNTS.events)
  const from = s.campaign.requests.length
  const client = await sdk.init(sdk.ConnectionParameters.ofBearerToken(s.server.proxyUrl, own))
  await client.logon()
  t.equal(await client.getOption('XtkDatabaseId', false), DATABASE_ID, 'works through the proxy')
  const calls = s.campaign.requests.slice(from)
  t.equal(calls[0]?.soapMethod, 'xtk:session#BearerTokenLogon', 'BearerTokenLogon reached Campaign')
  t.match(calls[0]?.body.toString(), own, 'with the client\'s token in the body, untouched')
  t.ok(calls.every(r => r.headers.authorization === undefined), 'no bearer was injected in any call')
  const option = calls.find(r => r.soapMethod === 'xtk:session#GetOption')
  t.match(option?.body.toString(), /<sessiontoken xsi:type="xsd:string">___[^<]+<\/sessiontoken>/, "later calls keep Campaign's own session token")
})
