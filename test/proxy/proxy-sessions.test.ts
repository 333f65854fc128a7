// Proxy sessions on the wire: stateless across replicas, and every way a
// token can be bad answered locally with XSV-350008; lockout; passthrough logins.
import { pino } from 'pino'
import t, { type Test } from 'tap'
import { hashPassword } from '../../src/auth/passwords.js'
import { parseConfig } from '../../src/config/load.js'
import { startServer } from '../../src/server.js'
import { PROXY_FAULTS } from '../../src/soap/faults.js'
import { send, soapPost, type HttpResult } from '../fixtures/http.js'
import { startProxyStack, type ProxyStack } from '../fixtures/proxy-stack.js'
import { outputText, soapEnvelope } from '../fixtures/soap.js'
import { startProxyProcess } from '../fixtures/proxy-process.js'

const PASSWORD = 'crm-secret-pw'
const logonBody = (login: string, password: string): string => soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', login], ['password', password], ['parameters', { xml: '' }]] })
const getOption = (token: string, security = ''): string => soapEnvelope({ schema: 'xtk:session', method: 'GetOption', sessionToken: token, params: [['name', 'XtkDatabaseId']], header: [['X-Security-Token', security]] })

async function integrations (): Promise<string> {
  const hash = await hashPassword(PASSWORD, { N: 1024 })
  return `  - { name: crm, login: crm_operator, passwordHash: '${hash}', technicalAccount: marketing }\n  - { name: legacy, login: admin, mode: passthrough }`
}

async function logon (router: string, login = 'crm_operator', password = PASSWORD, headers = {}): Promise<{ response: HttpResult, session: string, security: string }> {
  const response = await soapPost(router, logonBody(login, password), headers, 'xtk:session#Logon')
  return { response, session: outputText(response.text, 'pstrSessionToken') ?? '', security: outputText(response.text, 'pstrSecurityToken') ?? '' }
}

function assertSessionFault (t: Test, response: HttpResult, what: string): void {
  t.equal(response.status, 500, `${what}: answered like Campaign (HTTP 500)`)
  t.match(response.text, PROXY_FAULTS.sessionInvalid.message, `${what}: with XSV-350008`)
}

t.test('a proxy session works on another replica sharing the secret, not on one with another secret', async t => {
  // The replicas share the configuration too: a session is bound to its integration's passwordHash (each hash has its own salt).
  const list = await integrations()
  const s = await startProxyStack(t, { integrations: list })
  const { session, security } = await logon(s.soapRouter)
  t.match(session, /^___/, 'a session token shaped like Campaign\'s')
  t.match(security, /^@/, 'and a security token')
  t.equal((await soapPost(s.soapRouter, getOption(session, security))).status, 200, 'works on the replica that issued it')

  const yaml = (secret: string): string => `
listen: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
campaign: { url: '${s.campaign.url}' }
ims: { tokenUrl: '${s.ims.tokenUrl}' }
technicalAccounts:
  marketing: { clientId: marketing-client, clientSecret: marketing-secret, scopes: [AdobeID, openid, campaign_sdk] }
sessions: { secret: ${secret} }
integrations:
${list}
`
  const ready = await startProxyProcess(t, yaml('test-session-secret-0123456789abcdefghij'))
  const other = await soapPost(`${ready.proxyUrl}/nl/jsp/soaprouter.jsp`, getOption(session, security))
  t.equal(other.status, 200, 'another proxy process with the same secret accepts the session')

  const stranger = await startServer(parseConfig(yaml('a-completely-different-secret-0123456789'), { source: 'third', env: {} }), pino({ level: 'silent' }))
  t.teardown(() => stranger.close())
  assertSessionFault(t, await soapPost(`${stranger.proxyUrl}/nl/jsp/soaprouter.jsp`, getOption(session, security)), 'a replica with another secret')
})

t.test('bad tokens, one by one, never reach Campaign', async t => {
  let offset = 0
  const s: ProxyStack = await startProxyStack(t, { integrations: await integrations(), sessionTtlSeconds: 600, hooks: { now: () => Date.now() + offset } })
  const { session, security } = await logon(s.soapRouter)
  const forwarded = (): number => s.campaign.requests.filter(r => r.soapMethod !== 'xtk:session#GetUserInfo' && r.url !== '/r/test').length
  const before = forwarded()
  const flipped = session.slice(0, 10) + (session[10] === 'A' ? 'B' : 'A') + session.slice(11)
  assertSessionFault(t, await soapPost(s.soapRouter, getOption(flipped)), 'a forged token (one character changed)')
  const other = await logon(s.soapRouter)
  assertSessionFault(t, await soapPost(s.soapRouter, getOption(session, other.security)), "another session's security token")
  const revoked = await logon(s.soapRouter)
  const logoff = await soapPost(s.soapRouter, soapEnvelope({ schema: 'xtk:session', method: 'Logoff', sessionToken: revoked.session }), { 'x-security-token': revoked.security })
  t.match(logoff.text, /<LogoffResponse xmlns='urn:xtk:session'/, 'Logoff is answered locally')
  assertSessionFault(t, await soapPost(s.soapRouter, getOption(revoked.session, revoked.security)), 'a logged-off token')
  offset = 601_000
  assertSessionFault(t, await soapPost(s.soapRouter, getOption(session, security)), 'an expired token')
  t.equal(forwarded() - before, 0, 'none of them reached Campaign')
  offset = 0
  t.equal((await soapPost(s.soapRouter, getOption(other.session, other.security))).status, 200, 'a good session still works')
  t.equal((await send(`${s.server.proxyUrl}/r/test`, { headers: { 'x-session-token': other.session, 'x-security-token': other.security } })).status, 200, 'on other paths too')
})

t.test('three wrong passwords lock that login from that address', async t => {
  const s = await startProxyStack(t, { integrations: await integrations() })
  for (let i = 0; i < 3; i++) {
    const wrong = await logon(s.soapRouter, 'crm_operator', 'nope')
    t.match(wrong.response.text, PROXY_FAULTS.invalidLogin.message, `wrong password ${i + 1}: the invalid-login fault`)
  }
  const locked = await logon(s.soapRouter)
  t.match(locked.response.text, PROXY_FAULTS.invalidLogin.message, 'the right password is refused while locked')
  const elsewhere = await send(s.soapRouter, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: logonBody('crm_operator', PASSWORD), localAddress: '127.0.0.2' })
  t.match(outputText(elsewhere.text, 'pstrSessionToken'), /^___/, 'the same login from another address is not locked')
  t.equal(s.campaign.requests.filter(r => r.soapMethod === 'xtk:session#Logon').length, 0, 'no logon ever reached Campaign')
  t.notMatch(s.logs.join(''), /nope|crm-secret-pw/, 'no password in the logs')
  t.match(s.logs.join(''), /"msg":"failed logon"/, 'failed logons are logged')
})

t.test("a passthrough integration's Logon and calls reach Campaign byte for byte", async t => {
  const s = await startProxyStack(t, { integrations: await integrations(), campaign: { imsMandatory: false } })
  const { response, session, security } = await logon(s.soapRouter, 'admin', 'admin')
  t.equal(response.status, 200, 'Campaign answered the native logon')
  const body = getOption(session, security)
  const call = await soapPost(s.soapRouter, body, { 'x-session-token': session })
  t.equal(call.status, 200, "and the native session's call")
  const upstream = s.campaign.requests.at(-1)
  t.equal(upstream?.body.toString(), body, 'byte for byte')
  t.equal(upstream?.headers.authorization, undefined, 'without a bearer')
  t.equal(s.campaign.requests.find(r => r.soapMethod === 'xtk:session#Logon')?.body.toString(), logonBody('admin', 'admin'), 'the Logon too')
})

t.test('odd logons, the security token alone, and the synthetic session info', async t => {
  const s = await startProxyStack(t, { integrations: await integrations(), campaign: { imsMandatory: false } })
  const noLogin = await soapPost(s.soapRouter, soapEnvelope({ schema: 'xtk:session', method: 'Logon' }), {}, 'xtk:session#Logon')
  t.match(noLogin.text, 'XSV-350012', 'a Logon without a login is no integration of ours: Campaign answers it')
  const noPassword = await soapPost(s.soapRouter, soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', 'crm_operator']] }), {}, 'xtk:session#Logon')
  t.match(noPassword.text, PROXY_FAULTS.invalidLogin.message, 'our login without a password is refused by the proxy')

  const { session, security, response } = await logon(s.soapRouter)
  t.notMatch(response.text, /proxySynthetic/, "Campaign's own session info while it answers")
  const alone = await soapPost(s.soapRouter, getOption(''), { 'x-security-token': security }, 'xtk:session#GetOption')
  t.equal(alone.status, 200, 'the security token alone identifies the session (ofSecurityToken mode)')
  t.ok(session !== '', 'a session was issued')

  const later = await startProxyStack(t, { integrations: await integrations(), beforeStart: ({ campaign }) => { campaign.faults.always({ kind: 'status', status: 503 }, { path: '/r/test' }) } })
  const synthetic = await logon(later.soapRouter)
  t.match(synthetic.response.text, /<serverInfo buildNumber="0" instanceName="127" [^>]*proxySynthetic="true"\/>/, 'Campaign unreachable: a marked synthetic serverInfo')
  t.match(synthetic.response.text, /<userInfo login="crm_operator" loginId="0"/, 'and a synthetic userInfo for the login')
  t.match(later.logs.join(''), /synthetic serverInfo\/userInfo/, 'logged')
  t.match(synthetic.session, /^___/, 'the logon still succeeds')
})

t.test('a slow Campaign delays a Logon by the session-info bound only', async t => {
  // The bound is shortened (5 s in production) so the test does not wait for it.
  const s = await startProxyStack(t, { integrations: await integrations(), hooks: { sessionInfoTimeoutMs: 200 }, beforeStart: ({ campaign }) => { campaign.faults.always({ kind: 'latency', ms: 600_000 }, { path: '/r/test' }) } })
  const slow = await logon(s.soapRouter)
  t.match(slow.response.text, /proxySynthetic="true"/, 'the Logon falls back to synthetic session info, without waiting for Campaign (10 minutes late here)')
})
