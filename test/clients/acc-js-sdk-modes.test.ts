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
import { recordingFront, type SentRequest } from '../fixtures/recording-front.js'
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

/** Headers the proxy removes or sets itself; every other header reaches Campaign as the client sent it. */
const OWN_HEADERS = new Set(['host', 'connection', 'content-length', 'x-session-token', 'x-security-token', 'cookie', 'authorization', 'x-forwarded-for', 'expect', 'keep-alive', 'transfer-encoding'])

/**
 * Pairs each SOAP call Campaign received with the one the SDK sent (by
 * SOAPAction, in order) and checks the bytes: identical, or identical but
 * for the emptied session token when the proxy authenticated the call.
 */
function assertExactBytes (t: Test, s: ProxyStack, sent: readonly SentRequest[], from: number, emptied: boolean): void {
  const queue = new Map<string, SentRequest[]>()
  for (const request of sent) queue.set(String(request.headers.soapaction), [...(queue.get(String(request.headers.soapaction)) ?? []), request])
  const received = s.campaign.requests.slice(from).filter(r => r.soapMethod !== undefined && r.soapMethod !== 'xtk:session#GetUserInfo')
  t.ok(received.length > 0, `${received.length} calls to compare`)
  let exact = 0
  for (const request of received) {
    const original = queue.get(String(request.headers.soapaction))?.shift()
    if (original === undefined) continue
    // Rewriting rules: the session token and the SOAP Header Cookie / X-Security-Token are emptied, every other byte kept.
    const expected = emptied
      ? original.body.toString('latin1').replace(/(<sessiontoken xsi:type="xsd:string">)[^<]*(<\/sessiontoken>)/, '$1$2').replace(/<Cookie>[^<]*<\/Cookie>/, '<Cookie></Cookie>').replace(/<X-Security-Token>[^<]*<\/X-Security-Token>/, '<X-Security-Token></X-Security-Token>')
      : original.body.toString('latin1')
    const headersKept = Object.entries(original.headers).every(([name, value]) => OWN_HEADERS.has(name) || request.headers[name] === value)
    if (request.body.toString('latin1') === expected && headersKept && request.headers['content-length'] === String(request.body.length)) exact++
  }
  t.equal(exact, received.length, `every call reached Campaign with the exact bytes the SDK sent${emptied ? ', the session token emptied' : ''}, its headers kept, an exact Content-Length`)
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
  const front = await recordingFront(t, s.server.proxyUrl)
  const client = await sdk.init(sdk.ConnectionParameters.ofSessionAndSecurityToken(front.url, session, security))
  await client.logon()
  t.equal(await client.getOption('XtkDatabaseId', false), DATABASE_ID, 'getOption works')
  assertMigrated(t, s, (await s.server.tokens.get('marketing')).value, from)
  assertExactBytes(t, s, front.sent, from, true)
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
  const front = await recordingFront(t, s.server.proxyUrl)
  const client = await sdk.init(sdk.ConnectionParameters.ofSecurityToken(front.url, security))
  await client.logon()
  t.equal(await client.getOption('XtkDatabaseId', false), DATABASE_ID, 'getOption works with the security token alone')
  assertMigrated(t, s, (await s.server.tokens.get('marketing')).value, from)
  assertExactBytes(t, s, front.sent, from, true)
})

t.test('ofUserAndPassword with noMethodInURL and noSDKHeaders', async t => {
  const s = await stack(t)
  const front = await recordingFront(t, s.server.proxyUrl)
  const from = s.campaign.requests.length
  const client = await sdk.init(sdk.ConnectionParameters.ofUserAndPassword(front.url, 'etl_operator', PASSWORD, { noMethodInURL: true, noSDKHeaders: true }))
  await client.logon()
  t.equal(await client.getOption('XtkDatabaseId', false), DATABASE_ID, 'works')
  assertExactBytes(t, s, front.sent, from, true)
  const call = s.campaign.requests.findLast(r => r.soapMethod === 'xtk:session#GetOption')
  t.equal(call?.url, '/nl/jsp/soaprouter.jsp', 'no method in the URL: the proxy found it in the body')
  t.equal(call?.headers['acc-sdk-version'], undefined, 'no SDK headers')
  t.equal(call?.headers.authorization, `Bearer ${(await s.server.tokens.get('marketing')).value}`, 'the bearer was injected')
})

t.test('ofImsBearerToken (already migrated): its own token passes untouched', async t => {
  const s = await stack(t)
  const own = await imsToken(s.ims, ACCOUNTS.events)
  const from = s.campaign.requests.length
  const front = await recordingFront(t, s.server.proxyUrl)
  const client = await sdk.init(sdk.ConnectionParameters.ofImsBearerToken(front.url, own))
  await client.logon()
  t.equal(await client.getOption('XtkDatabaseId', false), DATABASE_ID, 'works through the proxy')
  assertExactBytes(t, s, front.sent, from, false)
  const calls = s.campaign.requests.slice(from).filter(r => r.soapMethod !== undefined)
  t.ok(calls.length > 0 && calls.every(r => r.headers.authorization === `Bearer ${own}`), "Campaign saw the client's own bearer, not the proxy's")
})

t.test('ofBearerToken (BearerTokenLogon): forwarded untouched, Campaign\'s own session used after it', async t => {
  const s = await stack(t)
  const own = await imsToken(s.ims, ACCOUNTS.events)
  const from = s.campaign.requests.length
  const front = await recordingFront(t, s.server.proxyUrl)
  const client = await sdk.init(sdk.ConnectionParameters.ofBearerToken(front.url, own))
  await client.logon()
  t.equal(await client.getOption('XtkDatabaseId', false), DATABASE_ID, 'works through the proxy')
  assertExactBytes(t, s, front.sent, from, false)
  const calls = s.campaign.requests.slice(from)
  t.equal(calls[0]?.soapMethod, 'xtk:session#BearerTokenLogon', 'BearerTokenLogon reached Campaign')
  t.match(calls[0]?.body.toString(), own, 'with the client\'s token in the body, untouched')
  t.ok(calls.every(r => r.headers.authorization === undefined), 'no bearer was injected in any call')
  const option = calls.find(r => r.soapMethod === 'xtk:session#GetOption')
  t.match(option?.body.toString(), /<sessiontoken xsi:type="xsd:string">___[^<]+<\/sessiontoken>/, "later calls keep Campaign's own session token")
})
