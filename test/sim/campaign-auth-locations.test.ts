// Native Campaign authentication over raw SOAP: where the session and
// security tokens may travel, the method element's prefix styles, inline
// login/password and the logon lockout.
import t from 'tap'
import { call, DATABASE_ID_RESPONSE, getOption, logon, startSims } from '../fixtures/campaign-sims.js'
import { expectedFault, expectedResponse, MESSAGES, outputText, STYLES } from '../fixtures/soap.js'

const SESSION_INVALID = expectedFault(MESSAGES.sessionInvalid)
const INVALID_LOGIN = expectedFault(MESSAGES.invalidLogin)

t.test('Logon returns a ___ session token and an @ security token', async t => {
  const { campaign } = await startSims(t)
  const session = await logon(campaign, 'admin', 'admin')
  t.equal(session.response.status, 200, 'Logon is answered 200')
  t.match(session.sessionToken, /^___[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/, 'the session token is ___ followed by an upper-case UUID')
  t.match(session.securityToken, /^@[A-Za-z0-9+/]{64}[A-Za-z0-9+/=]{4}$/, 'the security token is @ followed by base64')
  t.equal(campaign.sessionCount, 1, 'one session is open')
  const again = await logon(campaign, 'admin', 'admin')
  t.not(again.sessionToken, session.sessionToken, 'each Logon opens a new session')
  t.equal(campaign.sessionCount, 2, 'two sessions are open')
})

t.test('the session token is accepted in the first SOAP parameter', async t => {
  const { campaign } = await startSims(t)
  const { sessionToken } = await logon(campaign, 'admin', 'admin')
  t.equal((await getOption(campaign, { sessionToken })).text, DATABASE_ID_RESPONSE, 'the call succeeds with the token in <sessiontoken> alone')
})

t.test('the session token is accepted in the X-Session-Token header', async t => {
  const { campaign } = await startSims(t)
  const { sessionToken } = await logon(campaign, 'admin', 'admin')
  t.equal((await getOption(campaign, { headers: { 'x-session-token': sessionToken } })).text, DATABASE_ID_RESPONSE, 'the call succeeds with the token in X-Session-Token alone')
})

t.test('the __sessiontoken cookie is accepted with X-Security-Token', async t => {
  const { campaign } = await startSims(t)
  const { sessionToken, securityToken } = await logon(campaign, 'admin', 'admin')
  const response = await getOption(campaign, { headers: { cookie: `lang=en; __sessiontoken=${sessionToken}`, 'x-security-token': securityToken } })
  t.equal(response.text, DATABASE_ID_RESPONSE, 'the call succeeds with the cookie and the security token header')
})

t.test('the SOAP Header Cookie is accepted with the SOAP Header X-Security-Token', async t => {
  const { campaign } = await startSims(t)
  const { sessionToken, securityToken } = await logon(campaign, 'admin', 'admin')
  const response = await getOption(campaign, { header: [['Cookie', `__sessiontoken=${sessionToken}`], ['X-Security-Token', securityToken]] })
  t.equal(response.text, DATABASE_ID_RESPONSE, 'the call succeeds with both tokens in the SOAP Header')
})

t.test('a session cookie alone, without the security token, is refused', async t => {
  const { campaign } = await startSims(t)
  const { sessionToken } = await logon(campaign, 'admin', 'admin')
  const cookie = await getOption(campaign, { headers: { cookie: `__sessiontoken=${sessionToken}` } })
  t.equal(cookie.status, 500, 'the HTTP cookie alone is answered 500')
  t.equal(cookie.text, SESSION_INVALID, 'with XSV-350008')
  const soapCookie = await getOption(campaign, { header: [['Cookie', `__sessiontoken=${sessionToken}`]] })
  t.equal(soapCookie.text, SESSION_INVALID, 'the SOAP Header Cookie alone is refused with XSV-350008 too')
})

t.test('a wrong security token is refused', async t => {
  const { campaign } = await startSims(t)
  const { sessionToken } = await logon(campaign, 'admin', 'admin')
  const other = await logon(campaign, 'admin', 'admin')
  const response = await getOption(campaign, { sessionToken, headers: { 'x-security-token': other.securityToken } })
  t.equal(response.text, SESSION_INVALID, "another session's security token is refused with XSV-350008")
  const forged = await getOption(campaign, { headers: { cookie: `__sessiontoken=${sessionToken}`, 'x-security-token': '@forged==' } })
  t.equal(forged.text, SESSION_INVALID, 'a forged security token with the cookie is refused with XSV-350008')
})

t.test('a security token alone resolves its session', async t => {
  const { campaign } = await startSims(t)
  const { securityToken } = await logon(campaign, 'admin', 'admin')
  t.equal((await getOption(campaign, { headers: { 'x-security-token': securityToken } })).text, DATABASE_ID_RESPONSE, 'the X-Security-Token header alone is enough')
  t.equal((await getOption(campaign, { header: [['X-Security-Token', securityToken]] })).text, DATABASE_ID_RESPONSE, 'the SOAP Header X-Security-Token alone is enough')
  t.equal((await getOption(campaign, { headers: { 'x-security-token': '@unknown==' } })).text, SESSION_INVALID, 'an unknown security token alone is refused')
})

t.test('no credential, or an unknown session token, is refused', async t => {
  const { campaign } = await startSims(t)
  t.equal((await getOption(campaign)).text, SESSION_INVALID, 'a call with no credential at all is refused with XSV-350008')
  t.equal((await getOption(campaign, { sessionToken: '___00000000-0000-0000-0000-000000000000' })).text, SESSION_INVALID, 'an unknown session token is refused')
  t.equal((await getOption(campaign, { sessionToken: 'not-a-token' })).text, SESSION_INVALID, 'garbage without a slash is refused')
  t.equal((await getOption(campaign, { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } })).text, SESSION_INVALID, 'Basic authorization is not a Campaign credential')
})

t.test('an expired session is refused with XSV-350008', async t => {
  const { campaign, clock } = await startSims(t, { sessionTimeoutSeconds: 60 })
  const { sessionToken, securityToken } = await logon(campaign, 'admin', 'admin')
  clock.advance(59_999)
  t.equal((await getOption(campaign, { sessionToken })).text, DATABASE_ID_RESPONSE, 'the session still works 1 ms before its timeout')
  clock.advance(1)
  t.equal(campaign.sessionCount, 0, 'at the timeout the session no longer counts as live')
  t.equal((await getOption(campaign, { headers: { 'x-security-token': securityToken } })).text, SESSION_INVALID, 'the security token alone no longer resolves it')
  t.equal((await getOption(campaign, { sessionToken })).text, SESSION_INVALID, 'the session token is refused with XSV-350008')
})

t.test('Logoff ends the session', async t => {
  const { campaign } = await startSims(t)
  const { sessionToken, securityToken } = await logon(campaign, 'admin', 'admin')
  const logoff = await call(campaign, { schema: 'xtk:session', method: 'Logoff', sessionToken }, { 'x-security-token': securityToken })
  t.equal(logoff.text, expectedResponse('urn:xtk:session', 'Logoff', []), 'Logoff answers an empty LogoffResponse')
  t.equal(campaign.sessionCount, 0, 'no session is left')
  t.equal((await getOption(campaign, { sessionToken })).text, SESSION_INVALID, 'the session token is refused afterwards')
  t.equal((await getOption(campaign, { headers: { 'x-security-token': securityToken } })).text, SESSION_INVALID, 'so is the security token')
})

const PREFIX_STYLES = [
  ['m:Logon xmlns:m="urn:xtk:session"', STYLES.acc],
  ['default namespace <Logon xmlns="urn:xtk:session">', STYLES.defaultNs],
  ['SoapUI soapenv:/urn: prefixes with <urn:sessiontoken>', STYLES.soapui],
  ['the console <__sessiontoken>', STYLES.console],
  ['a SOAP 1.2 envelope', STYLES.soap12],
] as const

for (const [name, style] of PREFIX_STYLES) {
  t.test(`prefix style: ${name}`, async t => {
    const { campaign } = await startSims(t)
    const session = await logon(campaign, 'admin', 'admin', style)
    t.equal(session.response.status, 200, 'Logon is answered 200')
    t.match(session.response.text, /<LogonResponse xmlns='urn:xtk:session' /, 'the response element is unprefixed in urn:xtk:session')
    t.equal(campaign.requests[0]?.soapMethod, 'xtk:session#Logon', 'the request is read as xtk:session#Logon')
    const response = await getOption(campaign, { sessionToken: session.sessionToken, style })
    t.equal(response.text, DATABASE_ID_RESPONSE, 'a call in the same style with the token in the first parameter succeeds')
  })
}

t.test('inline login/password with allowUserPassword', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true, operators: [{ login: 'etl', password: 'pa/ss' }, { login: 'imsonly' }] })
  t.equal((await getOption(campaign, { sessionToken: 'etl/pa/ss' })).text, DATABASE_ID_RESPONSE, 'login/password in the first parameter works, split at the first slash')
  t.equal((await getOption(campaign, { headers: { 'x-session-token': 'etl/pa/ss' } })).text, DATABASE_ID_RESPONSE, 'and in X-Session-Token')
  t.equal(campaign.sessionCount, 0, 'no session is opened by inline credentials')
  const wrong = await getOption(campaign, { sessionToken: 'etl/wrong' })
  t.equal(wrong.status, 500, 'a wrong password is answered 500')
  t.equal(wrong.text, INVALID_LOGIN, 'with XSV-350012')
  t.equal((await getOption(campaign, { sessionToken: 'imsonly/' })).text, INVALID_LOGIN, 'an operator without a native password is refused with XSV-350012')
  t.equal((await getOption(campaign, { sessionToken: 'admin/admin' })).text, INVALID_LOGIN, 'operators not in the configured list are unknown')

  campaign.allowUserPassword = false
  t.equal((await getOption(campaign, { sessionToken: 'etl/pa/ss' })).text, SESSION_INVALID, 'with allowUserPassword off the right credentials are refused with XSV-350008')
})

t.test('Logon failures: unknown login, wrong password, missing parameters', async t => {
  const { campaign } = await startSims(t)
  t.equal((await logon(campaign, 'nobody', 'admin')).response.text, INVALID_LOGIN, 'an unknown login is refused with XSV-350012')
  t.equal((await logon(campaign, 'admin', 'Admin')).response.text, INVALID_LOGIN, 'a wrong password is refused with XSV-350012')
  const bare = await call(campaign, { schema: 'xtk:session', method: 'Logon' })
  t.equal(bare.text, INVALID_LOGIN, 'a Logon without login and password parameters is refused with XSV-350012')
  t.equal(campaign.sessionCount, 0, 'no session was opened')
})

t.test('lockout: 3 failures within 10 minutes lock the login for 5 minutes', async t => {
  const { campaign, clock } = await startSims(t)
  for (let i = 0; i < 3; i++) {
    t.equal((await logon(campaign, 'admin', 'bad')).response.text, INVALID_LOGIN, `failure ${i + 1} is refused with XSV-350012`)
    clock.advance(4 * 60_000)
  }
  // 8 minutes after the first failure, 4 after the third.
  t.equal((await logon(campaign, 'admin', 'admin')).response.text, INVALID_LOGIN, 'the right password is refused while locked')
  t.equal((await getOption(campaign, { sessionToken: 'admin/admin' })).text, SESSION_INVALID, 'inline credentials are off by default')
  campaign.allowUserPassword = true
  t.equal((await getOption(campaign, { sessionToken: 'admin/admin' })).text, INVALID_LOGIN, 'inline login/password is locked out too')
  t.equal((await logon(campaign, 'mc', 'mc-password')).response.status, 200, 'other logins are not locked')
  clock.advance(60_000 - 1)
  t.equal((await logon(campaign, 'admin', 'admin')).response.text, INVALID_LOGIN, 'still locked 1 ms before the 5 minutes are over')
  clock.advance(1)
  const unlocked = await logon(campaign, 'admin', 'admin')
  t.equal(unlocked.response.status, 200, 'the right password works once the 5 minutes are over')
  t.match(unlocked.sessionToken, /^___/, 'and opens a session')
})

t.test('lockout: failures spread over more than 10 minutes do not lock', async t => {
  const { campaign, clock } = await startSims(t)
  await logon(campaign, 'admin', 'bad')
  clock.advance(6 * 60_000)
  await logon(campaign, 'admin', 'bad')
  clock.advance(4 * 60_000)
  t.equal((await logon(campaign, 'admin', 'bad')).response.text, INVALID_LOGIN, 'the third failure, 10 minutes after the first, is refused')
  t.equal((await logon(campaign, 'admin', 'admin')).response.status, 200, 'but the login is not locked: the first failure left the window')
})

t.test('lockout: a successful logon resets the failure count; the thresholds are configurable', async t => {
  const { campaign, clock } = await startSims(t, { lockout: { maxFailures: 2, windowSeconds: 60, banSeconds: 30 } })
  await logon(campaign, 'admin', 'bad')
  t.equal((await logon(campaign, 'admin', 'admin')).response.status, 200, 'one failure does not lock')
  await logon(campaign, 'admin', 'bad')
  t.equal((await logon(campaign, 'admin', 'admin')).response.status, 200, 'a second failure after a success does not lock: the count restarted')
  await logon(campaign, 'admin', 'bad')
  await logon(campaign, 'admin', 'bad')
  t.equal((await logon(campaign, 'admin', 'admin')).response.text, INVALID_LOGIN, 'two failures in a row lock with maxFailures 2')
  clock.advance(30_000)
  t.equal(outputText((await logon(campaign, 'admin', 'admin')).response.text, 'pstrSessionToken')?.slice(0, 3), '___', 'the 30 s ban is over')
})
