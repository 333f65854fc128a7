// What reaches Campaign for each kind of caller, on SOAP and other paths.
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer as createHttpsServer } from 'node:https'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { PROXY_FAULTS } from '../../src/soap/faults.js'
import { send, soapPost } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'
import { outputText, soapEnvelope } from '../fixtures/soap.js'

const getOption = (token: string): string => soapEnvelope({ schema: 'xtk:session', method: 'GetOption', sessionToken: token, params: [['name', 'XtkDatabaseId']], header: [['Cookie', `__sessiontoken=${token}`], ['X-Security-Token', '@sec']] })
const tls = (name: string): string => fileURLToPath(new URL(`../fixtures/tls/${name}`, import.meta.url))

t.test('an integration loses every legacy credential, keeps other cookies, gains the bearer', async t => {
  const s = await startProxyStack(t, { integrations: '  - { name: crm, networks: [127.0.0.1/32], technicalAccount: marketing }' })
  const body = getOption('___legacy-session')
  const response = await soapPost(s.soapRouter, body, {
    'x-session-token': '___legacy-session',
    'x-security-token': '@sec',
    cookie: 'lang=fr; __sessiontoken=___legacy-session; theme=dark',
    authorization: 'Basic Y3JtOnB3',
  }, 'xtk:session#GetOption')
  t.equal(response.status, 200, 'the strict simulator accepts the call: nothing legacy was left')
  t.equal(outputText(response.text, 'pstrValue'), 'uD5A3F1B7C2E94A0F8B6D1E3C5A7F9B2D4E6C8A0B', 'and answers it')
  const upstream = s.campaign.requests.at(-1)
  const token = await s.server.tokens.get('marketing')
  t.equal(upstream?.headers.authorization, `Bearer ${token.value}`, 'the bearer replaced the inbound Authorization')
  t.equal(upstream?.headers.cookie, 'lang=fr; theme=dark', 'other cookies are kept')
  t.equal(upstream?.headers['x-session-token'], undefined, 'X-Session-Token removed')
  t.equal(upstream?.headers['x-security-token'], undefined, 'X-Security-Token removed')
  t.equal(upstream?.body.toString(), body.replace('>___legacy-session</sessiontoken>', '></sessiontoken>').replace('<Cookie>__sessiontoken=___legacy-session</Cookie>', '<Cookie></Cookie>').replace('<X-Security-Token>@sec</X-Security-Token>', '<X-Security-Token></X-Security-Token>'), 'the token and SOAP Header credentials are emptied, nothing else changed')
  t.equal(response.headers['x-request-id'] !== undefined, true, 'a request id is echoed')

  const redir = await send(`${s.server.proxyUrl}/r/test`)
  t.equal(redir.status, 200, 'other paths are proxied')
  t.equal(s.campaign.requests.at(-1)?.headers.authorization, `Bearer ${token.value}`, 'and an authenticated caller gets the bearer there too')
})

t.test('unknown callers pass through byte for byte, without a token', async t => {
  const s = await startProxyStack(t, { integrations: '  - { name: elsewhere, networks: [10.9.0.0/16], technicalAccount: marketing }', campaign: { imsMandatory: false } })
  const logon = soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', 'admin'], ['password', 'admin'], ['parameters', { xml: '' }]] })
  const response = await soapPost(s.soapRouter, logon, {}, 'xtk:session#Logon')
  const session = outputText(response.text, 'pstrSessionToken') ?? ''
  t.match(session, /^___/, 'a native logon through the proxy works')
  const call = getOption(session).replace('@sec', outputText(response.text, 'pstrSecurityToken') ?? '')
  const second = await soapPost(s.soapRouter, call, { 'x-session-token': session }, 'xtk:session#GetOption')
  t.equal(second.status, 200, 'the native session works through the proxy')
  const upstream = s.campaign.requests.at(-1)
  t.equal(upstream?.body.toString(), call, 'the body is forwarded byte for byte')
  t.equal(upstream?.headers['x-session-token'], session, 'credentials are left alone')
  t.equal(upstream?.headers.authorization, undefined, 'no token is added')
  t.equal(s.ims.tokenRequests('marketing-client'), 1, 'no token was fetched for the passthrough calls (only the start-up fetch)')
})

t.test('unknownCallers reject: the XSV-350008 fault, nothing forwarded; passthrough integrations still pass', async t => {
  const rejecting = await startProxyStack(t, { integrations: '  - { name: elsewhere, networks: [10.9.0.0/16], technicalAccount: marketing }', extra: 'unknownCallers: reject' })
  const refused = await soapPost(rejecting.soapRouter, getOption('___x'), {}, 'xtk:session#GetOption')
  t.equal(refused.status, PROXY_FAULTS.sessionInvalid.status, 'refused with the session fault status')
  t.match(refused.text, 'XSV-350008 Session has expired or is invalid. Please reconnect.', "with Campaign's session message")
  t.equal(rejecting.campaign.requests.length, 0, 'nothing was forwarded')

  const legacy = await startProxyStack(t, { integrations: '  - { name: nightly-etl, mode: passthrough, networks: [127.0.0.1/32] }', extra: 'unknownCallers: reject', campaign: { imsMandatory: false } })
  const passed = await soapPost(legacy.soapRouter, getOption('___unknown'), { 'x-session-token': '___unknown' }, 'xtk:session#GetOption')
  t.match(passed.text, 'XSV-350008', 'a passthrough integration reaches Campaign, which judges its session')
  t.equal(legacy.campaign.requests.at(-1)?.headers['x-session-token'], '___unknown', 'untouched')
})

t.test('upstream down: 502 without internal details', async t => {
  const s = await startProxyStack(t, { integrations: '  - { name: crm, networks: [127.0.0.1/32], technicalAccount: marketing }' })
  await s.campaign.refuseConnections(true)
  const response = await soapPost(s.soapRouter, getOption(''), {}, 'xtk:session#GetOption')
  t.equal(response.status, 502, 'Bad Gateway')
  t.match(response.text, PROXY_FAULTS.upstreamUnavailable.message, 'a SOAP fault saying Campaign could not be reached')
  t.notMatch(response.text, /ECONNREFUSED|127\.0\.0\.1|:\d{4,5}/, 'no internal address or error code leaks')
  t.match(response.text, `request id ${response.headers['x-request-id'] as string}`, 'the request id lets an operator find the log line')
})

t.test('upstream too slow: 504', async t => {
  const s = await startProxyStack(t, { integrations: '  - { name: crm, networks: [127.0.0.1/32], technicalAccount: marketing }', campaignTimeoutSeconds: 1 })
  // undici's timers have about a second of granularity: the delay is well past the 1 s timeout.
  s.campaign.faults.inject({ kind: 'latency', ms: 3500 }, { soapMethod: 'xtk:session#GetOption' })
  const response = await soapPost(s.soapRouter, getOption(''), {}, 'xtk:session#GetOption')
  t.equal(response.status, 504, 'Gateway Timeout')
  t.match(response.text, PROXY_FAULTS.upstreamTimeout.message, 'a SOAP fault saying Campaign did not answer in time')
})

t.test('Campaign over TLS: verified, with an optional CA file', async t => {
  let hits = 0
  const upstream = createHttpsServer({ key: readFileSync(tls('server-key.pem')), cert: readFileSync(tls('server.pem')) }, (req, res) => {
    hits++
    req.resume()
    res.end('<redir status="OK"/>')
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  t.teardown(() => { upstream.close() })
  const url = `https://127.0.0.1:${(upstream.address() as { port: number }).port}`
  const integrations = '  - { name: crm, networks: [127.0.0.1/32], technicalAccount: marketing }'
  const untrusted = await startProxyStack(t, { integrations, campaignUrl: url })
  const refused = await send(`${untrusted.server.proxyUrl}/r/test`)
  t.equal(refused.status, 502, 'a certificate from an unknown CA is refused')
  t.equal(hits, 0, 'no request reached the untrusted server')
  const trusted = await startProxyStack(t, { integrations, campaignUrl: url, campaignCaFile: tls('ca.pem') })
  const accepted = await send(`${trusted.server.proxyUrl}/r/test`)
  t.equal(accepted.status, 200, 'with campaign.caFile naming the CA, the same server is accepted')
  t.equal(accepted.text, '<redir status="OK"/>', 'and its answer is relayed')
  t.equal(hits, 1, 'exactly one request reached it')
})

t.test('behind a trusted proxy: the forwarded client address selects the integration', async t => {
  const s = await startProxyStack(t, {
    integrations: '  - { name: crm, networks: [10.9.0.0/16], technicalAccount: marketing }',
    extra: 'trustedProxies: [127.0.0.1/32]\nunknownCallers: reject',
  })
  const response = await soapPost(s.soapRouter, getOption('___x'), { 'x-forwarded-for': '10.9.1.1', 'x-request-id': 'lb-1234' }, 'xtk:session#GetOption')
  t.equal(response.status, 200, 'the CRM behind the load balancer is recognised')
  t.equal(response.headers['x-request-id'], 'lb-1234', "the load balancer's request id is kept and echoed")
  t.equal(s.campaign.requests.at(-1)?.headers['x-forwarded-for'], '10.9.1.1, 127.0.0.1', 'X-Forwarded-For is extended with the trusted peer')
  const spoofed = await soapPost(s.soapRouter, getOption('___x'), { 'x-forwarded-for': '10.9.1.1', 'x-request-id': 'bad id with spaces' }, 'xtk:session#GetOption')
  t.match(spoofed.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'an unusable request id is replaced by a fresh one')
})

t.test('duplicate SOAP Header credentials are all emptied', async t => {
  const s = await startProxyStack(t, { integrations: '  - { name: crm, networks: [127.0.0.1/32], technicalAccount: marketing }' })
  const body = soapEnvelope({ schema: 'xtk:session', method: 'GetOption', sessionToken: '___a', params: [['name', 'XtkDatabaseId']], header: [['Cookie', '__sessiontoken=___a'], ['X-Security-Token', '@1'], ['Cookie', '__sessiontoken=___b'], ['X-Security-Token', '@2']] })
  const response = await soapPost(s.soapRouter, body, {}, 'xtk:session#GetOption')
  t.equal(response.status, 200, 'accepted')
  t.equal(s.campaign.requests.at(-1)?.body.toString(), body
    .replace('>___a</sessiontoken>', '></sessiontoken>')
    .replace(/<Cookie>[^<]*<\/Cookie>/g, '<Cookie></Cookie>')
    .replace(/<X-Security-Token>[^<]*<\/X-Security-Token>/g, '<X-Security-Token></X-Security-Token>'), 'every Cookie and X-Security-Token header element is emptied')
})

t.test('a wrong client secret: 503 while the account is misconfigured', async t => {
  const s = await startProxyStack(t, {
    integrations: '  - { name: crm, networks: [127.0.0.1/32], technicalAccount: marketing }',
    waitForTokens: false,
    beforeStart: ({ ims }) => { ims.registerClient({ clientId: 'marketing-client', secrets: ['rotated-elsewhere'], scopes: ['AdobeID', 'openid', 'campaign_sdk'] }) },
  })
  const response = await soapPost(s.soapRouter, getOption(''), {}, 'xtk:session#GetOption')
  t.equal(response.status, 503, 'Service Unavailable')
  t.ok(Number(response.headers['retry-after']) >= 1, 'with Retry-After')
  t.match(response.text, PROXY_FAULTS.imsUnavailable.message, 'the IMS fault')
  t.match(s.logs.join(''), /invalid_client/, 'the log names the IMS error for the operator')
  t.notMatch(s.logs.join(''), /marketing-secret/, 'but never the secret')
})

t.test('a client that disconnects mid-upload leaves the proxy healthy', async t => {
  const s = await startProxyStack(t, { integrations: '  - { name: crm, networks: [127.0.0.1/32], technicalAccount: marketing }' })
  const { connect } = await import('node:net')
  const url = new URL(s.soapRouter)
  const socket = connect(Number(url.port), url.hostname)
  await once(socket, 'connect')
  socket.write(`POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n<soapenv:Envelope`)
  await new Promise(resolve => setTimeout(resolve, 50))
  socket.destroy()
  await new Promise(resolve => setTimeout(resolve, 50))
  const after = await soapPost(s.soapRouter, getOption(''), {}, 'xtk:session#GetOption')
  t.equal(after.status, 200, 'the next request is served')
  t.equal(s.campaign.requests.filter(r => r.soapMethod === undefined && r.url.startsWith('/nl/jsp/soaprouter.jsp')).length, 0, 'nothing of the aborted upload reached Campaign')
})
