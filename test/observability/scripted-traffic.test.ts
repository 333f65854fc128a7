// Acceptance (observability): after a scripted run through every auth path,
// /metrics holds exact counts for every family, /integrations lists each
// integration and unknown caller with exact counts, and no secret of any
// class appears in any log line.
import t from 'tap'
import { hashPassword } from '../../src/auth/passwords.js'
import { imsToken } from '../fixtures/campaign-sims.js'
import { send, soapPost } from '../fixtures/http.js'
import { ACCOUNTS, startProxyStack } from '../fixtures/proxy-stack.js'
import { outputText, soapEnvelope } from '../fixtures/soap.js'

const PASSWORD = 'etl-Secret-pw-42'
const SESSION_SECRET = 'test-session-secret-0123456789abcdefghij'
const getOption = (token: string): string => soapEnvelope({ schema: 'xtk:session', method: 'GetOption', sessionToken: token, params: [['name', 'XtkDatabaseId']] })
const logon = (login: string, password: string): string => soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', login], ['password', password], ['parameters', { xml: '' }]] })
const logoff = (token: string): string => soapEnvelope({ schema: 'xtk:session', method: 'Logoff', sessionToken: token })
const pushEvent = soapEnvelope({ schema: 'nms:rtEvent', method: 'PushEvent', params: [['domEvent', { xml: '<rtEvent type="welcome" email="a@example.com"/>' }]] })

/** The value of one sample of the Prometheus text, by exact label set. */
function sample (text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',')
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match?.[1] !== name) continue
    const have = (match[2] ?? '').split(/,(?=[a-z_]+=")/).filter(p => p !== '').sort().join(',')
    if (have === wanted) return Number(match[3])
  }
  return undefined
}

t.test('a scripted run: exact metrics, inventory, and no secret in any log line', async t => {
  let skew = 0
  const hash = await hashPassword(PASSWORD, { N: 1024 })
  const s = await startProxyStack(t, {
    campaign: { imsMandatory: false },
    hooks: { now: () => Date.now() + skew },
    integrations: [
      `  - { name: nightly-etl, login: etl_operator, passwordHash: '${hash}', technicalAccount: marketing }`,
      '  - { name: website, networks: [127.0.0.2/32], technicalAccount: events }',
      '  - { name: crm-sync, mode: passthrough, login: crm_operator }',
    ].join('\n'),
    extra: 'wsdl: { technicalAccount: marketing }',
  })
  const post = (body: string, action: string, from = '127.0.0.1', headers = {}): ReturnType<typeof soapPost> =>
    send(s.soapRouter, { method: 'POST', localAddress: from, headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: action, ...headers }, body })

  // nightly-etl: a wrong password, a Logon, two calls, an inline login/password call, a call after its token was revoked, a Logoff.
  t.equal((await post(logon('etl_operator', 'wrong'), 'xtk:session#Logon')).status, 500, 'a wrong password is refused')
  const loggedOn = await post(logon('etl_operator', PASSWORD), 'xtk:session#Logon')
  const session = outputText(loggedOn.text, 'pstrSessionToken') as string
  const security = outputText(loggedOn.text, 'pstrSecurityToken') as string
  for (let i = 0; i < 2; i++) t.equal((await post(getOption(session), 'xtk:session#GetOption')).status, 200, 'a session call works')
  t.equal((await post(getOption(`etl_operator/${PASSWORD}`), 'xtk:session#GetOption')).status, 200, 'an inline login/password call works')
  const revoked = await s.server.tokens.get('marketing')
  s.ims.authority.revoke(revoked.value)
  skew = 5000 // the token is no longer fresh: Campaign's refusal invalidates it
  const replayed = await post(getOption(session), 'xtk:session#GetOption', '127.0.0.1', { 'x-security-token': security })
  t.equal(replayed.status, 200, 'a call with a revoked token is replayed with a new one')
  const fresh = await s.server.tokens.get('marketing')
  t.not(fresh.value, revoked.value, 'the account holds a new token')
  t.equal((await post(logoff(session), 'xtk:session#Logoff')).status, 200, 'Logoff is answered')

  // website: three events from its network; the WSDL fetched anonymously.
  for (let i = 0; i < 3; i++) t.equal((await post(pushEvent, 'nms:rtEvent#PushEvent', '127.0.0.2')).status, 200, 'an event from the network goes through')
  const wsdl = await send(`${s.server.proxyUrl}/nl/jsp/schemawsdl.jsp?schema=nms:rtEvent`, { localAddress: '127.0.0.3' })
  t.equal(wsdl.status, 200, 'an anonymous WSDL GET is served with the wsdl account')
  t.equal(s.campaign.requests.at(-1)?.headers.authorization, `Bearer ${fresh.value}`, 'Campaign received it with the marketing token')
  t.equal(s.campaign.requests.at(-1)?.headers['x-forwarded-for'], '127.0.0.3', "and the caller's address")

  // crm-sync (passthrough): a native Logon and a call with Campaign's own session, attributed to it.
  const native = await post(logon('crm_operator', 'crm-password'), 'xtk:session#Logon', '127.0.0.4')
  const nativeSession = outputText(native.text, 'pstrSessionToken') as string
  t.match(nativeSession, /^___/, 'Campaign answers the native Logon')
  t.equal((await post(getOption(nativeSession), 'xtk:session#GetOption', '127.0.0.4')).status, 200, 'the native session works')

  // Unknown callers: another native login, an anonymous page, a client with its own bearer, a forged proxy session.
  const admin = await post(logon('admin', 'admin'), 'xtk:session#Logon', '127.0.0.5')
  const adminSession = outputText(admin.text, 'pstrSessionToken') as string
  t.equal((await post(getOption(adminSession), 'xtk:session#GetOption', '127.0.0.5')).status, 200, 'an unknown native session passes through')
  t.equal((await send(`${s.server.proxyUrl}/r/test`, { localAddress: '127.0.0.6' })).status, 200, 'an anonymous page passes through')
  const clientBearer = await imsToken(s.ims, ACCOUNTS.events)
  t.equal((await post(getOption(''), 'xtk:session#GetOption', '127.0.0.7', { authorization: `Bearer ${clientBearer}` })).status, 200, 'a migrated client keeps its own bearer')
  const forged = `${session.slice(0, -4)}AAAA`
  t.equal((await post(getOption(forged), 'xtk:session#GetOption', '127.0.0.8')).status, 500, 'a forged proxy session is refused')

  const metrics = (await send(`${s.server.adminUrl}/metrics`)).text
  // `campaign:` alone is the instance named default, the campaign label of every request here.
  const requests = (labels: Record<string, string>): number | undefined => sample(metrics, 'campaign_ims_proxy_requests_total', { campaign: 'default', fault: '', status: '200', ...labels })
  t.same({
    wrongPassword: requests({ integration: 'nightly-etl', soap_method: 'xtk:session#Logon', auth_path: 'logon', status: '500', fault: 'XSV-350012' }),
    logon: requests({ integration: 'nightly-etl', soap_method: 'xtk:session#Logon', auth_path: 'logon' }),
    session: requests({ integration: 'nightly-etl', soap_method: 'xtk:session#GetOption', auth_path: 'session' }),
    inline: requests({ integration: 'nightly-etl', soap_method: 'xtk:session#GetOption', auth_path: 'inline-password' }),
    logoff: requests({ integration: 'nightly-etl', soap_method: 'xtk:session#Logoff', auth_path: 'logoff' }),
    network: requests({ integration: 'website', soap_method: 'nms:rtEvent#PushEvent', auth_path: 'network' }),
    wsdl: requests({ integration: '(unknown)', soap_method: '', auth_path: 'wsdl' }),
    crmLogon: requests({ integration: 'crm-sync', soap_method: 'xtk:session#Logon', auth_path: 'passthrough' }),
    crmCall: requests({ integration: 'crm-sync', soap_method: 'xtk:session#GetOption', auth_path: 'passthrough' }),
    unknownLogon: requests({ integration: '(unknown)', soap_method: 'xtk:session#Logon', auth_path: 'passthrough' }),
    unknownCall: requests({ integration: '(unknown)', soap_method: 'xtk:session#GetOption', auth_path: 'passthrough' }),
    anonymous: requests({ integration: '(unknown)', soap_method: '', auth_path: 'anonymous' }),
    clientBearer: requests({ integration: '(unknown)', soap_method: 'xtk:session#GetOption', auth_path: 'client-bearer' }),
    forged: requests({ integration: '(unknown)', soap_method: 'xtk:session#GetOption', auth_path: 'session', status: '500', fault: 'XSV-350008' }),
  }, {
    wrongPassword: 1, logon: 1, session: 3, inline: 1, logoff: 1, network: 3, wsdl: 1, crmLogon: 1, crmCall: 1, unknownLogon: 1, unknownCall: 1, anonymous: 1, clientBearer: 1, forged: 1,
  }, 'requests_total by integration, method, auth path, status and fault')
  t.same({
    etlUpstream: sample(metrics, 'campaign_ims_proxy_upstream_duration_seconds_count', { campaign: 'default', integration: 'nightly-etl' }),
    etlAdded: sample(metrics, 'campaign_ims_proxy_added_duration_seconds_count', { integration: 'nightly-etl' }),
    websiteUpstream: sample(metrics, 'campaign_ims_proxy_upstream_duration_seconds_count', { campaign: 'default', integration: 'website' }),
    unknownUpstream: sample(metrics, 'campaign_ims_proxy_upstream_duration_seconds_count', { campaign: 'default', integration: '(unknown)' }),
  }, { etlUpstream: 4, etlAdded: 4, websiteUpstream: 3, unknownUpstream: 5 }, 'latency histograms count forwarded requests only (a replay is one request)')
  t.same({
    marketingOk: sample(metrics, 'campaign_ims_proxy_token_requests_total', { account: 'marketing', result: 'ok' }),
    eventsOk: sample(metrics, 'campaign_ims_proxy_token_requests_total', { account: 'events', result: 'ok' }),
    marketingFetches: sample(metrics, 'campaign_ims_proxy_token_fetch_duration_seconds_count', { account: 'marketing' }),
    invalidations: sample(metrics, 'campaign_ims_proxy_token_invalidations_total', { account: 'marketing' }),
    replays: sample(metrics, 'campaign_ims_proxy_replays_total', { account: 'marketing', result: 'replayed' }),
    logonSuccess: sample(metrics, 'campaign_ims_proxy_logons_total', { integration: 'nightly-etl', result: 'success' }),
    logonFailure: sample(metrics, 'campaign_ims_proxy_logons_total', { integration: 'nightly-etl', result: 'failure' }),
    passthroughCrm: sample(metrics, 'campaign_ims_proxy_passthrough_requests_total', { integration: 'crm-sync' }),
    passthroughUnknown: sample(metrics, 'campaign_ims_proxy_passthrough_requests_total', { integration: '(unknown)' }),
  }, {
    marketingOk: 2, eventsOk: 1, marketingFetches: 2, invalidations: 1, replays: 1, logonSuccess: 1, logonFailure: 1, passthroughCrm: 2, passthroughUnknown: 2,
  }, 'token, invalidation, replay, logon and passthrough counters')
  t.equal(s.ims.tokenRequests('marketing-client'), 2, 'the IMS simulator agrees: one extra token request for the revoked token')
  const expiry = sample(metrics, 'campaign_ims_proxy_token_expiry_seconds', { account: 'events' }) as number
  t.ok(expiry > 86_000 && expiry <= 86_400, `seconds until expiry per account (${expiry})`)

  const inventory = JSON.parse((await send(`${s.server.adminUrl}/integrations`)).text) as { integrations: Array<Record<string, unknown>>, unknownCallers: Array<Record<string, unknown>> }
  const strip = (entry: Record<string, unknown>): Record<string, unknown> => {
    const { lastSeen, ...rest } = entry
    t.match(lastSeen, /^\d{4}-\d\d-\d\dT/, 'last seen is a timestamp')
    return rest
  }
  t.same(inventory.integrations.map(strip), [
    { name: 'nightly-etl', mode: 'ims', technicalAccount: 'marketing', allowedMethods: null, allowedPaths: null, calls: 7, methods: { 'xtk:session#Logon': 2, 'xtk:session#GetOption': 4, 'xtk:session#Logoff': 1 }, refused: {}, campaigns: { default: 7 }, authPaths: { logon: 2, session: 3, 'inline-password': 1, logoff: 1 }, faults: { 'XSV-350012': 1 }, statuses: { 500: 1, 200: 6 } },
    { name: 'website', mode: 'ims', technicalAccount: 'events', allowedMethods: null, allowedPaths: null, calls: 3, methods: { 'nms:rtEvent#PushEvent': 3 }, refused: {}, campaigns: { default: 3 }, authPaths: { network: 3 }, faults: {}, statuses: { 200: 3 } },
    { name: 'crm-sync', mode: 'passthrough', technicalAccount: null, allowedMethods: null, allowedPaths: null, calls: 2, methods: { 'xtk:session#Logon': 1, 'xtk:session#GetOption': 1 }, refused: {}, campaigns: { default: 2 }, authPaths: { passthrough: 2 }, faults: {}, statuses: { 200: 2 } },
  ], 'each integration with its calls, methods, auth paths, faults')
  const unknown = inventory.unknownCallers.map(strip).sort((a, b) => String(a.address).localeCompare(String(b.address)))
  t.same(unknown, [
    { login: null, address: '127.0.0.3', calls: 1, methods: {}, refused: {}, campaigns: { default: 1 }, authPaths: { wsdl: 1 }, faults: {}, statuses: { 200: 1 } },
    { login: 'admin', address: '127.0.0.5', calls: 2, methods: { 'xtk:session#Logon': 1, 'xtk:session#GetOption': 1 }, refused: {}, campaigns: { default: 2 }, authPaths: { passthrough: 2 }, faults: {}, statuses: { 200: 2 } },
    { login: null, address: '127.0.0.6', calls: 1, methods: {}, refused: {}, campaigns: { default: 1 }, authPaths: { anonymous: 1 }, faults: {}, statuses: { 200: 1 } },
    { login: null, address: '127.0.0.7', calls: 1, methods: { 'xtk:session#GetOption': 1 }, refused: {}, campaigns: { default: 1 }, authPaths: { 'client-bearer': 1 }, faults: {}, statuses: { 200: 1 } },
    { login: null, address: '127.0.0.8', calls: 1, methods: { 'xtk:session#GetOption': 1 }, refused: {}, campaigns: { default: 1 }, authPaths: { session: 1 }, faults: { 'XSV-350008': 1 }, statuses: { 500: 1 } },
  ], 'each unknown caller, by login seen in its Logon and address, the native session attributed to its login')

  // Every secret class, through every auth path: none may appear in the logs.
  const secrets: Record<string, string> = {
    'integration password': PASSWORD,
    'password hash': hash.split('$').at(-1) as string,
    'IMS client secret (marketing)': 'marketing-secret',
    'IMS client secret (events)': 'events-secret',
    'sessions.secret': SESSION_SECRET,
    'proxy session token': session,
    'proxy security token': security,
    'Campaign session token (passthrough)': nativeSession,
    'Campaign session token (unknown caller)': adminSession,
    'IMS token (revoked)': revoked.value,
    'IMS token (current)': fresh.value,
    "a migrated client's own bearer": clientBearer,
    'native password': 'crm-password',
  }
  const logs = s.logs.join('')
  const accessLines = s.logs.filter(line => line.includes('"msg":"request"')).length
  t.equal(accessLines, 18, 'one access log line per request (18 sent)')
  for (const [what, value] of Object.entries(secrets)) t.notOk(logs.includes(value), `no ${what} in the logs`)
  t.ok(logs.includes(fresh.fingerprint), 'token fingerprints are logged instead')
})
