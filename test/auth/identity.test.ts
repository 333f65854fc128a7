// The identity decision alone, without HTTP: one row per way of being
// identified, in the documented order, and a property: headers and cookies
// that carry no credential never change the decision.
import fc from 'fast-check'
import t from 'tap'
import type { ClientIdentity } from '../../src/auth/client-certificates.js'
import { decideIdentity, type IdentityDecision, type IdentityRequest, type IdentityTables } from '../../src/auth/identity.js'
import { SessionTokens } from '../../src/auth/sessions.js'
import type { IntegrationConfig } from '../../src/config/types.js'
import { generationOf } from '../../src/proxy/routing.js'
import { locate } from '../fixtures/soap-locate.js'

const NOW = Date.parse('2026-12-01T10:00:00Z')
const sessions = new SessionTokens({ secret: 'identity-test-secret-0123456789abcdef', ttlSeconds: 3600, now: () => NOW })

function integration (name: string, fields: Partial<IntegrationConfig>): IntegrationConfig {
  return { name, mode: 'ims', login: undefined, passwordHash: undefined, networks: [], clientCertificates: [], technicalAccount: 'marketing', allowedMethods: undefined, allowedPaths: undefined, ...fields }
}
const CRM = integration('crm', { login: 'crm_op', passwordHash: 'scrypt$…' })
const MC = integration('mc', { login: 'mc', passwordHash: 'scrypt$…', technicalAccount: 'events' })
const ETL = integration('etl', { mode: 'passthrough', login: 'etl_op', technicalAccount: undefined })
const WEBSITE = integration('website', { networks: ['10.1.0.0/16'] })
const LEGACY_NET = integration('legacy-net', { mode: 'passthrough', networks: ['10.2.0.0/16'], technicalAccount: undefined })
const CERTIFIED = integration('certified', { clientCertificates: [{ subject: 'CN=crm-sync' }] })
const CERTIFIED_LEGACY = integration('certified-legacy', { mode: 'passthrough', clientCertificates: [{ subject: 'CN=legacy' }], technicalAccount: undefined })
const GONE = 'removed-integration'
const ALL = [CRM, MC, ETL, WEBSITE, LEGACY_NET, CERTIFIED, CERTIFIED_LEGACY]
const GENERATIONS = new Map(ALL.map(i => [i.name, generationOf(sessions, i)]))
const current = (name: string): string | undefined => GENERATIONS.get(name)
/** A session of `name` under its current credentials. */
const issue = (name: string): ReturnType<SessionTokens['issue']> => sessions.issue(name, current(name) ?? generationOf(sessions, integration(name, {})))

function tables (overrides: Partial<IdentityTables> = {}): IdentityTables {
  const byName = new Map(ALL.map(i => [i.name, i]))
  return {
    imsByLogin: new Map([[CRM.login as string, CRM], [MC.login as string, MC]]),
    passthroughByLogin: new Map([[ETL.login as string, ETL]]),
    byName,
    byNetwork: address => address.startsWith('10.1.') ? WEBSITE : address.startsWith('10.2.') ? LEGACY_NET : undefined,
    byCertificate: identity => identity.subject === 'CN=crm-sync' ? CERTIFIED : identity.subject === 'CN=legacy' ? CERTIFIED_LEGACY : undefined,
    hasCertificates: true,
    isProxyShaped: token => sessions.isProxyShaped(token),
    verifySession: (s, sec) => sessions.verify(s, sec, current),
    verifySecurityToken: sec => sessions.verifySecurityToken(sec, current),
    rememberedSession: token => token === '___native-etl-session' ? { integration: 'etl', login: 'etl_op' } : token === '___native-unknown' ? { integration: undefined, login: 'someone' } : undefined,
    unknownCallers: 'passthrough',
    wsdlAccount: undefined,
    ...overrides,
  }
}

const soap = (method: string, params: string[], urn = 'urn:xtk:session'): string =>
  `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:${method} xmlns:m="${urn}">${params.map((p, i) => `<p${i}>${p}</p${i}>`).join('')}</m:${method}></s:Body></s:Envelope>`

function request (fields: Partial<IdentityRequest> & { body?: string }): IdentityRequest {
  const { body, ...rest } = fields
  return { method: 'POST', path: '/nl/jsp/soaprouter.jsp', headers: {}, location: body === undefined ? undefined : locate(body), caller: '192.0.2.10', certificate: undefined, ...rest }
}

const issued = issue('crm')
const gone = issue(GONE)
const loggedOff = issue('mc')
const beforeRotation = sessions.issue('crm', generationOf(sessions, { ...CRM, passwordHash: 'scrypt$earlier' }))
const revokedSessions = new SessionTokens({ secret: 'identity-test-secret-0123456789abcdef', ttlSeconds: 3600, now: () => NOW })
revokedSessions.revoke(loggedOff.session)
const CERT: ClientIdentity = { subject: 'CN=crm-sync', sha256: 'AA' }

/** The decision's shape, without the objects it points at. */
function summary (d: IdentityDecision): Record<string, unknown> {
  return {
    kind: d.kind,
    integration: d.integration?.name,
    login: d.login,
    authPath: d.authPath,
    ...(d.kind === 'inject' ? { account: d.account, password: d.password?.password } : {}),
    ...(d.kind === 'logon' ? { password: d.password.password, urn: d.urn } : {}),
    ...(d.kind === 'logoff' ? { session: d.session.integration } : {}),
    ...(d.kind === 'forward' ? { rememberLogon: d.rememberLogon } : {}),
    ...(d.kind === 'refuse' ? { fault: d.fault, detail: d.detail } : {}),
  }
}

const ROWS: ReadonlyArray<readonly [string, IdentityRequest, Partial<IdentityTables>, Record<string, unknown>]> = [
  ['1. Logon of an ims login: answered locally after the password check', request({ body: soap('Logon', ['', 'crm_op', 'pw', '']) }), {},
    { kind: 'logon', integration: 'crm', login: undefined, authPath: 'logon', password: 'pw', urn: 'urn:xtk:session' }],
  ['1. Logon of a passthrough login: Campaign answers, its session remembered', request({ body: soap('Logon', ['', 'etl_op', 'pw', '']) }), {},
    { kind: 'forward', integration: 'etl', login: 'etl_op', authPath: 'passthrough', rememberLogon: true }],
  ['1. Logon of an unknown login under reject: refused', request({ body: soap('Logon', ['', 'nobody', 'pw', '']) }), { unknownCallers: 'reject' },
    { kind: 'refuse', integration: undefined, login: 'nobody', authPath: 'passthrough', fault: 'sessionInvalid', detail: 'unknown caller' }],
  ['2. Logoff with a valid proxy session: answered locally', request({ body: soap('Logoff', [issued.sessionToken]) }), {},
    { kind: 'logoff', integration: 'crm', login: undefined, authPath: 'logoff', session: 'crm' }],
  ['3. a proxy session in the body: its integration\'s account', request({ body: soap('GetOption', [issued.sessionToken, 'x']), caller: '10.1.0.5' }), {},
    { kind: 'inject', integration: 'crm', login: undefined, authPath: 'session', account: 'marketing', password: undefined }],
  ['3. a proxy session in X-Session-Token with its security token', request({ method: 'GET', path: '/r/test', headers: { 'x-session-token': issued.sessionToken, 'x-security-token': issued.securityToken } }), {},
    { kind: 'inject', integration: 'crm', login: undefined, authPath: 'session', account: 'marketing', password: undefined }],
  ['3. a security token alone (ofSecurityToken)', request({ method: 'GET', path: '/r/test', headers: { 'x-security-token': issued.securityToken } }), {},
    { kind: 'inject', integration: 'crm', login: undefined, authPath: 'session', account: 'marketing', password: undefined }],
  ['3. a mismatched security token: refused, never forwarded', request({ method: 'GET', path: '/r/test', headers: { 'x-session-token': issued.sessionToken, 'x-security-token': gone.securityToken } }), {},
    { kind: 'refuse', integration: undefined, login: undefined, authPath: 'session', fault: 'sessionInvalid', detail: 'proxy session security-token-mismatch' }],
  ['3. a logged-off session: refused', request({ body: soap('GetOption', [loggedOff.sessionToken]) }), { verifySession: (s, sec) => revokedSessions.verify(s, sec, current) },
    { kind: 'refuse', integration: undefined, login: undefined, authPath: 'session', fault: 'sessionInvalid', detail: 'proxy session revoked' }],
  ['3. a session issued before its integration\'s password changed: refused', request({ body: soap('GetOption', [beforeRotation.sessionToken]) }), {},
    { kind: 'refuse', integration: undefined, login: undefined, authPath: 'session', fault: 'sessionInvalid', detail: 'proxy session credentials-changed' }],
  ['3. a session of an integration no longer configured: refused', request({ body: soap('GetOption', [gone.sessionToken]) }), {},
    { kind: 'refuse', integration: undefined, login: undefined, authPath: 'session', fault: 'sessionInvalid', detail: 'the session belongs to an integration that is no longer configured' }],
  ['4. inline login/password of an ims login: the account, after the password check', request({ body: soap('PushEvent', ['mc/secret', '<e/>'], 'urn:nms:rtEvent') }), {},
    { kind: 'inject', integration: 'mc', login: undefined, authPath: 'inline-password', account: 'events', password: 'secret' }],
  ['4. inline login/password of a passthrough login: forwarded, attributed', request({ body: soap('PushEvent', ['etl_op/secret'], 'urn:nms:rtEvent'), caller: '10.1.0.5' }), {},
    { kind: 'forward', integration: 'etl', login: 'etl_op', authPath: 'passthrough', rememberLogon: false }],
  ['5. a remembered native session: attributed to its passthrough integration', request({ body: soap('GetOption', ['___native-etl-session']), caller: '10.1.0.5' }), { unknownCallers: 'reject' },
    { kind: 'forward', integration: 'etl', login: 'etl_op', authPath: 'passthrough', rememberLogon: false }],
  ['5. a remembered session of an unknown login: still an unknown caller', request({ body: soap('GetOption', ['___native-unknown']) }), {},
    { kind: 'forward', integration: undefined, login: 'someone', authPath: 'passthrough', rememberLogon: false }],
  ['6. a verified client certificate', request({ method: 'GET', path: '/r/test', certificate: CERT, caller: '10.1.0.5' }), {},
    { kind: 'inject', integration: 'certified', login: undefined, authPath: 'certificate', account: 'marketing', password: undefined }],
  ['6. an unknown certificate: on to the network', request({ method: 'GET', path: '/r/test', certificate: { subject: 'CN=other', sha256: 'BB' }, caller: '10.1.0.5' }), {},
    { kind: 'inject', integration: 'website', login: undefined, authPath: 'network', account: 'marketing', password: undefined }],
  ['6. a passthrough integration\'s certificate: forwarded untouched, attributed', request({ method: 'GET', path: '/r/test', certificate: { subject: 'CN=legacy', sha256: 'CC' }, caller: '10.1.0.5' }), {},
    { kind: 'forward', integration: 'certified-legacy', login: undefined, authPath: 'passthrough', rememberLogon: false }],
  ['7. the caller\'s network', request({ body: soap('PushEvent', [''], 'urn:nms:rtEvent'), caller: '10.1.0.5' }), {},
    { kind: 'inject', integration: 'website', login: undefined, authPath: 'network', account: 'marketing', password: undefined }],
  ['7. a passthrough network: forwarded untouched, attributed', request({ body: soap('PushEvent', [''], 'urn:nms:rtEvent'), caller: '10.2.0.5' }), { unknownCallers: 'reject' },
    { kind: 'forward', integration: 'legacy-net', login: undefined, authPath: 'passthrough', rememberLogon: false }],
  ['8. an anonymous WSDL GET with wsdl.technicalAccount', request({ method: 'GET', path: '/nl/jsp/schemawsdl.jsp' }), { wsdlAccount: 'marketing' },
    { kind: 'inject', integration: undefined, login: undefined, authPath: 'wsdl', account: 'marketing', password: undefined }],
  ['8. a WSDL GET with a client bearer is not served with the account', request({ method: 'GET', path: '/nl/jsp/schemawsdl.jsp', headers: { authorization: 'Bearer own' } }), { wsdlAccount: 'marketing' },
    { kind: 'forward', integration: undefined, login: undefined, authPath: 'client-bearer', rememberLogon: false }],
  ['9. a Campaign session of an unknown caller: passthrough', request({ body: soap('GetOption', ['___campaign-uuid']) }), {},
    { kind: 'forward', integration: undefined, login: undefined, authPath: 'passthrough', rememberLogon: false }],
  ['9. Basic credentials: legacy authentication, passed through', request({ method: 'GET', path: '/r/test', headers: { authorization: 'Basic eDp5' } }), {},
    { kind: 'forward', integration: undefined, login: undefined, authPath: 'passthrough', rememberLogon: false }],
  ['9. anonymous under reject: refused', request({ method: 'GET', path: '/r/test' }), { unknownCallers: 'reject' },
    { kind: 'refuse', integration: undefined, login: undefined, authPath: 'anonymous', fault: 'sessionInvalid', detail: 'unknown caller' }],
]

t.test('each way of being identified, in order', async t => {
  for (const [name, req, overrides, expected] of ROWS) t.strictSame(summary(decideIdentity(req, tables(overrides))), expected, name)
})

t.test('a proxy token in any spelling is the proxy\'s to verify or refuse, never Campaign\'s', async t => {
  const other = issue('mc')
  const session = { kind: 'inject', integration: 'crm', login: undefined, authPath: 'session', account: 'marketing', password: undefined }
  const ambiguous = { kind: 'refuse', integration: undefined, login: undefined, authPath: 'session', fault: 'sessionInvalid', detail: 'several different session or security tokens presented' }
  const get = (headers: IdentityRequest['headers']): IdentityRequest => request({ method: 'GET', path: '/r/test', headers })
  const rows: ReadonlyArray<readonly [string, IdentityRequest, Record<string, unknown>]> = [
    ['repeated X-Session-Token headers with the same token', get({ 'x-session-token': `${issued.sessionToken}, ${issued.sessionToken}` }), session],
    ['a quoted cookie value', get({ cookie: `__sessiontoken="${issued.sessionToken}"` }), session],
    ['a comma between cookies', get({ cookie: `a=1, __sessiontoken=${issued.sessionToken}` }), session],
    ['the cookie name in another case', get({ cookie: `__SessionToken=${issued.sessionToken}` }), session],
    ['the same token in the body, the header and the cookie (acc-js-sdk)', request({ body: soap('GetOption', [issued.sessionToken]), headers: { 'x-session-token': issued.sessionToken, cookie: `__sessiontoken=${issued.sessionToken}`, 'x-security-token': issued.securityToken } }), session],
    ['a quoted security token alone', get({ 'x-security-token': `"${issued.securityToken}"` }), session],
    ['two sessions, in the header and in the cookie', get({ 'x-session-token': issued.sessionToken, cookie: `__SESSIONTOKEN=${other.sessionToken}` }), ambiguous],
    ['a proxy session beside a Campaign session', request({ body: soap('GetOption', ['___campaign-uuid']), headers: { cookie: `__sessiontoken=${issued.sessionToken}` } }), ambiguous],
    ['two security tokens', get({ 'x-session-token': issued.sessionToken, 'x-security-token': `${issued.securityToken}, ${other.securityToken}` }), ambiguous],
    ['a proxy security token with a Campaign session', request({ body: soap('GetOption', ['___campaign-uuid']), headers: { 'x-security-token': issued.securityToken } }),
      { kind: 'refuse', integration: undefined, login: undefined, authPath: 'session', fault: 'sessionInvalid', detail: 'proxy session malformed' }],
    ['a Campaign Logon carrying a proxy session', request({ body: soap('Logon', ['', 'etl_op', 'pw', '']), headers: { cookie: `a=1, __SessionToken="${issued.sessionToken}"` } }),
      { kind: 'refuse', integration: 'etl', login: 'etl_op', authPath: 'passthrough', fault: 'sessionInvalid', detail: 'a proxy session presented with a Campaign Logon' }],
    ['a Campaign Logon carrying a proxy security token', request({ body: soap('Logon', ['', 'someone', 'pw', '']), headers: { 'x-security-token': issued.securityToken } }),
      { kind: 'refuse', integration: undefined, login: 'someone', authPath: 'passthrough', fault: 'sessionInvalid', detail: 'a proxy session presented with a Campaign Logon' }],
  ]
  for (const [name, req, expected] of rows) t.strictSame(summary(decideIdentity(req, tables())), expected, name)
})

t.test('earlier resolvers win: a proxy session from a network integration\'s address is the session\'s integration', async t => {
  const d = decideIdentity(request({ body: soap('PushEvent', [issued.sessionToken], 'urn:nms:rtEvent'), caller: '10.1.0.9', certificate: CERT }), tables())
  t.equal(d.integration?.name, 'crm', 'the session, not the certificate or the network')
})

t.test('no certificate lookup when no integration is identified by one', async t => {
  let looked = 0
  const d = decideIdentity(request({ method: 'GET', path: '/r/test', certificate: CERT }), tables({ hasCertificates: false, byCertificate: () => { looked++; return CERTIFIED } }))
  t.same([d.kind, looked], ['forward', 0], 'forwarded as anonymous, the matcher never asked')
})

const CREDENTIAL_HEADERS = new Set(['authorization', 'x-session-token', 'x-security-token', 'cookie'])

t.test('headers and cookies that carry no credential never change the decision', async t => {
  const bodies = [
    soap('Logon', ['', 'crm_op', 'pw', '']), soap('Logon', ['', 'etl_op', 'pw', '']), soap('GetOption', [issued.sessionToken]),
    soap('PushEvent', ['mc/secret'], 'urn:nms:rtEvent'), soap('PushEvent', [''], 'urn:nms:rtEvent'), soap('GetOption', ['___native-etl-session']),
  ]
  const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/).filter(name => !CREDENTIAL_HEADERS.has(name))
  const cookieName = fc.stringMatching(/^[a-z][a-z0-9_]{0,11}$/).filter(name => name !== '__sessiontoken')
  t.doesNotThrow(() => fc.assert(fc.property(
    fc.constantFrom(...bodies), fc.constantFrom('192.0.2.10', '10.1.0.5', '10.2.0.5'), fc.constantFrom<'passthrough' | 'reject'>('passthrough', 'reject'),
    fc.dictionary(headerName, fc.string({ maxLength: 20 })), fc.array(fc.tuple(cookieName, fc.stringMatching(/^[A-Za-z0-9]{0,12}$/)), { maxLength: 4 }),
    (body, caller, unknownCallers, extraHeaders, cookies) => {
      const base = request({ body, caller })
      const noisy = request({ body, caller, headers: { ...extraHeaders, ...(cookies.length === 0 ? {} : { cookie: cookies.map(([n, v]) => `${n}=${v}`).join('; ') }) } })
      const options = tables({ unknownCallers })
      if (JSON.stringify(summary(decideIdentity(base, options))) !== JSON.stringify(summary(decideIdentity(noisy, options)))) throw new Error('the decision changed')
    }), { numRuns: 300 }), 'unrelated headers and cookies are ignored')
})
