// The IMS side of the Campaign simulator: imsMandatory for technical
// operators, bearer tokens (valid, expired, revoked, foreign), the two
// invalid-bearer fault flavours, BearerTokenLogon and the product profile.
import t from 'tap'
import { CampaignSimulator } from '../../src/sim/campaign.js'
import { TokenAuthority } from '../../src/sim/ims-tokens.js'
import { call, CLIENT, CLIENT_OPERATOR, Clock, DATABASE_ID_RESPONSE, getOption, imsToken, logon, OTHER_CLIENT, startSims } from '../fixtures/campaign-sims.js'
import { elementOut, expectedFault, expectedResponse, MESSAGES, outputText } from '../fixtures/soap.js'

const UNABLE_TO_LOGON = expectedFault(MESSAGES.unableToLogon, MESSAGES.technicalDetail)
const SESSION_INVALID = expectedFault(MESSAGES.sessionInvalid)
const IMS_LIFETIME_MS = 86_399 * 1000

function bearer (token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}

t.test('IMS mandatory: technical operators are refused native logon, admin still logs on', async t => {
  const { campaign } = await startSims(t, { imsMandatory: true })
  const mc = await logon(campaign, 'mc', 'mc-password')
  t.equal(mc.response.status, 500, 'the mc logon is answered 500')
  t.equal(mc.response.text, UNABLE_TO_LOGON, 'with XSV-350022 and the reason in the detail')
  t.equal((await logon(campaign, 'crm_operator', 'crm-password')).response.text, UNABLE_TO_LOGON, 'crm_operator is refused with XSV-350022 too')
  t.equal((await logon(campaign, 'mc', 'wrong')).response.text, expectedFault(MESSAGES.invalidLogin), 'a wrong password is still reported as XSV-350012')
  t.equal(campaign.sessionCount, 0, 'no session was opened for technical operators')
  const admin = await logon(campaign, 'admin', 'admin')
  t.equal(admin.response.status, 200, 'admin logs on')
  t.equal((await getOption(campaign, { sessionToken: admin.sessionToken })).text, DATABASE_ID_RESPONSE, "and admin's session works")
})

t.test('IMS mandatory: an existing native session of a technical operator is refused after the switch', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true })
  const mc = await logon(campaign, 'mc', 'mc-password')
  t.equal((await getOption(campaign, { sessionToken: mc.sessionToken })).text, DATABASE_ID_RESPONSE, 'the mc session works before the switch')
  t.equal((await getOption(campaign, { sessionToken: 'mc/mc-password' })).text, DATABASE_ID_RESPONSE, 'so do inline mc credentials')
  campaign.imsMandatory = true
  t.equal((await getOption(campaign, { sessionToken: mc.sessionToken })).text, UNABLE_TO_LOGON, 'the mc session token is refused with XSV-350022')
  t.equal((await getOption(campaign, { headers: { 'x-security-token': mc.securityToken } })).text, UNABLE_TO_LOGON, 'so is its security token alone')
  t.equal((await getOption(campaign, { sessionToken: 'mc/mc-password' })).text, UNABLE_TO_LOGON, 'and inline mc credentials')
})

t.test('IMS mandatory: a bearer token still works, as the technical account operator', async t => {
  const { ims, campaign } = await startSims(t, { imsMandatory: true })
  const token = await imsToken(ims)
  t.equal((await getOption(campaign, { headers: bearer(token) })).text, DATABASE_ID_RESPONSE, 'GetOption with the bearer succeeds')
  t.equal((await getOption(campaign, { headers: { authorization: `bearer  ${token} ` } })).text, DATABASE_ID_RESPONSE, 'the scheme is case-insensitive and surrounding blanks are tolerated')
  const userInfo = await call(campaign, { schema: 'xtk:session', method: 'GetUserInfo' }, bearer(token))
  const expectedUserInfo = `<userInfo datakitInDatabase="true" homeDir="" instanceLocale="en" locale="en" login="${CLIENT_OPERATOR}" ` +
    `loginCS="Technical account acme-campaign-client (${CLIENT_OPERATOR})" loginId="1062" noConsoleCnx="false" orgUnitId="0" theme="" timezone="Europe/Paris">` +
    '<login-group id="1060"/><login-right right="admin"/>' +
    '<installed-package name="campaign" namespace="nms"/><installed-package name="core" namespace="nms"/><installed-package name="messageCenter" namespace="nms"/></userInfo>'
  t.equal(userInfo.text, expectedResponse('urn:xtk:session', 'GetUserInfo', [elementOut('pUserInfo', expectedUserInfo)]),
    'GetUserInfo describes the operator created for the technical account, named by its email')
  await call(campaign, { schema: 'xtk:session', method: 'GetUserInfo' }, bearer(await imsToken(ims)))
  t.same(campaign.store.rows('xtk:operator').map(r => r.name), ['admin', 'mc', 'crm_operator', CLIENT_OPERATOR], 'the operator was created once, on first use')
  const logoff = await call(campaign, { schema: 'xtk:session', method: 'Logoff' }, bearer(token))
  t.equal(logoff.text, expectedResponse('urn:xtk:session', 'Logoff', []), 'Logoff with a bearer answers an empty LogoffResponse')
  t.equal((await getOption(campaign, { headers: bearer(token) })).text, DATABASE_ID_RESPONSE, 'and the bearer keeps working: there was no session to end')
})

t.test('BearerTokenLogon exchanges an IMS token for session tokens', async t => {
  const { ims, campaign } = await startSims(t, { imsMandatory: true })
  const response = await call(campaign, { schema: 'xtk:session', method: 'BearerTokenLogon', params: [['bearerToken', ` ${await imsToken(ims)} `]] })
  t.equal(response.status, 200, 'BearerTokenLogon is answered 200')
  t.match(response.text, /<BearerTokenLogonResponse xmlns='urn:xtk:session' /, 'with a BearerTokenLogonResponse')
  t.match(response.text, new RegExp(`<userInfo [^>]*login="${CLIENT_OPERATOR}"`), 'for the technical account operator')
  const sessionToken = outputText(response.text, 'pstrSessionToken') ?? ''
  const securityToken = outputText(response.text, 'pstrSecurityToken') ?? ''
  t.equal(campaign.sessionCount, 1, 'a session is open')
  t.equal((await getOption(campaign, { sessionToken, headers: { 'x-security-token': securityToken } })).text, DATABASE_ID_RESPONSE,
    'the session tokens work under imsMandatory: the technical account is not a native technical operator')
  const missing = await call(campaign, { schema: 'xtk:session', method: 'BearerTokenLogon' })
  t.equal(missing.text, SESSION_INVALID, 'a BearerTokenLogon without a token is refused with XSV-350008')
})

t.test('an expired bearer is refused with XSV-350008', async t => {
  const { ims, campaign, clock } = await startSims(t)
  const token = await imsToken(ims)
  clock.advance(IMS_LIFETIME_MS - 1)
  t.equal((await getOption(campaign, { headers: bearer(token) })).text, DATABASE_ID_RESPONSE, 'the token works 1 ms before created_at + expires_in')
  clock.advance(1)
  const expired = await getOption(campaign, { headers: bearer(token) })
  t.equal(expired.status, 500, 'the expired token is answered 500')
  t.equal(expired.text, SESSION_INVALID, 'with XSV-350008 (invalidBearerFault session-expired, the default)')
})

t.test('a revoked bearer is refused with XSV-350008', async t => {
  const { ims, campaign } = await startSims(t, { invalidBearerFault: 'session-expired' })
  const token = await imsToken(ims)
  t.equal((await getOption(campaign, { headers: bearer(token) })).text, DATABASE_ID_RESPONSE, 'the token works before revocation')
  ims.authority.revoke(token)
  t.equal((await getOption(campaign, { headers: bearer(token) })).text, SESSION_INVALID, 'the revoked token is refused with XSV-350008')
})

t.test('a foreign or malformed bearer is refused with XSV-350008', async t => {
  const { campaign } = await startSims(t)
  const foreign = new TokenAuthority().issue(CLIENT.clientId, CLIENT.scopes, 3600).token
  t.equal((await getOption(campaign, { headers: bearer(foreign) })).text, SESSION_INVALID, 'a token signed by another authority is refused with XSV-350008')
  t.equal((await getOption(campaign, { headers: bearer('not-a-jwt') })).text, SESSION_INVALID, 'a token that is not JWT-shaped is refused with XSV-350008')
})

t.test("invalidBearerFault 'ims-profile-401': the SOP-330007 ... XSV-350114 ... 401 message", async t => {
  const { ims, campaign, clock } = await startSims(t, { invalidBearerFault: 'ims-profile-401' })
  const revoked = await imsToken(ims)
  ims.authority.revoke(revoked)
  const foreign = new TokenAuthority().issue(CLIENT.clientId, CLIENT.scopes, 3600).token
  const expired = await imsToken(ims)
  clock.advance(IMS_LIFETIME_MS)
  const profile401 = expectedFault(MESSAGES.imsProfile401('xtk:session', 'GetOption'))
  t.equal((await getOption(campaign, { headers: bearer(expired) })).text, profile401, 'an expired token gets the IMS profile 401 fault naming the method and service')
  t.equal((await getOption(campaign, { headers: bearer(revoked) })).text, profile401, 'so does a revoked token')
  t.equal((await getOption(campaign, { headers: bearer(foreign) })).text, profile401, 'and a foreign token')
  const query = await call(campaign, { schema: 'xtk:queryDef', method: 'ExecuteQuery' }, bearer(expired))
  t.equal(query.text, expectedFault(MESSAGES.imsProfile401('xtk:queryDef', 'ExecuteQuery')), 'the message follows the method called')
  const exchange = await call(campaign, { schema: 'xtk:session', method: 'BearerTokenLogon', params: [['bearerToken', expired]] })
  t.equal(exchange.text, expectedFault(MESSAGES.imsProfile401('xtk:session', 'BearerTokenLogon')), 'BearerTokenLogon with an expired token gets it too')
})

t.test('without a token authority every bearer is refused', async t => {
  const clock = new Clock()
  const campaign = await CampaignSimulator.start({ now: clock.now })
  t.teardown(() => campaign.close())
  const token = new TokenAuthority({ now: clock.now }).issue(CLIENT.clientId, CLIENT.scopes, 3600).token
  t.equal((await getOption(campaign, { headers: bearer(token) })).text, SESSION_INVALID, 'a well-formed bearer is refused with XSV-350008')
})

t.test("without its own clock the simulator uses the token authority's", async t => {
  const clock = new Clock()
  const authority = new TokenAuthority({ now: clock.now })
  const campaign = await CampaignSimulator.start({ authority, allowUserPassword: true })
  t.teardown(() => campaign.close())
  const token = authority.issue(CLIENT.clientId, CLIENT.scopes, 60).token
  t.equal((await getOption(campaign, { headers: bearer(token) })).text, DATABASE_ID_RESPONSE, 'the bearer is valid at first')
  t.equal((await logon(campaign, 'admin', 'admin')).response.text.includes('serverDate="2026-11-23 09:00:00.000Z"'), true, "serverInfo's date is the authority's clock")
  clock.advance(60_000)
  t.equal((await getOption(campaign, { headers: bearer(token) })).text, SESSION_INVALID, 'and advancing that clock expires the bearer')
})

t.test('allowedImsClients refuses the technical accounts of other clients', async t => {
  const { ims, campaign } = await startSims(t, { allowedImsClients: [CLIENT.clientId] })
  t.equal((await getOption(campaign, { headers: bearer(await imsToken(ims)) })).text, DATABASE_ID_RESPONSE, 'the allowed client is served')
  const other = await getOption(campaign, { headers: bearer(await imsToken(ims, OTHER_CLIENT)) })
  t.equal(other.status, 500, 'another client is answered 500')
  t.equal(other.text, expectedFault(MESSAGES.unableToLogon, 'The technical account has no Campaign product profile.'), 'with XSV-350022: no product profile')
  t.same(campaign.store.rows('xtk:operator').map(r => r.name), ['admin', 'mc', 'crm_operator', CLIENT_OPERATOR], 'no operator was created for the refused client')
})
