// Acceptance (hardening): under `unknownCallers: reject`, a caller outside
// every integration's networks and without credentials never reaches
// Campaign, whatever X-Forwarded-For it claims; configured passthrough
// integrations are admitted through the session Campaign gave them.
import { gzipSync } from 'node:zlib'
import t from 'tap'
import { PROXY_FAULTS } from '../../src/soap/faults.js'
import { send } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'
import { outputText, soapEnvelope } from '../fixtures/soap.js'

const INTEGRATIONS = [
  '  - { name: website, networks: [127.0.0.2/32], technicalAccount: events }',
  '  - { name: crm-sync, mode: passthrough, login: crm_operator }',
].join('\n')
const pushEvent = soapEnvelope({ schema: 'nms:rtEvent', method: 'PushEvent', params: [['domEvent', { xml: '<rtEvent type="x" email="x@example.com"/>' }]] })
const logon = (login: string, password: string): string => soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', login], ['password', password], ['parameters', { xml: '' }]] })
const getOption = (token: string): string => soapEnvelope({ schema: 'xtk:session', method: 'GetOption', sessionToken: token, params: [['name', 'XtkDatabaseId']] })

t.test('outside every network, no credentials: refused, spoofed X-Forwarded-For or not', async t => {
  const s = await startProxyStack(t, { integrations: INTEGRATIONS, extra: 'unknownCallers: reject' })
  const attempts: Array<[string, Parameters<typeof send>[1]]> = [
    ['a SOAP call', { method: 'POST', headers: { 'content-type': 'text/xml' }, body: pushEvent }],
    ['a SOAP call claiming the network in X-Forwarded-For', { method: 'POST', headers: { 'content-type': 'text/xml', 'x-forwarded-for': '127.0.0.2' }, body: pushEvent }],
    ['a SOAP call claiming it in a list', { method: 'POST', headers: { 'content-type': 'text/xml', 'x-forwarded-for': '10.0.0.1, 127.0.0.2' }, body: pushEvent }],
    ['a SOAP call claiming it in Forwarded and X-Real-IP', { method: 'POST', headers: { 'content-type': 'text/xml', forwarded: 'for=127.0.0.2', 'x-real-ip': '127.0.0.2' }, body: pushEvent }],
    ['a GET of a page', { method: 'GET', headers: { 'x-forwarded-for': '127.0.0.2' } }],
    ['a WSDL GET (no wsdl account configured)', { method: 'GET' }],
    ['a PUT', { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: 'data' }],
  ]
  for (const [what, options] of attempts) {
    const path = options?.method === 'POST' ? '/nl/jsp/soaprouter.jsp' : options?.method === 'PUT' ? '/nl/jsp/uploadFile.jsp' : what.includes('WSDL') ? '/nl/jsp/schemawsdl.jsp?schema=nms:rtEvent' : '/r/test'
    const response = await send(`${s.server.proxyUrl}${path}`, { ...options, localAddress: '127.0.0.1' })
    t.equal(response.status, 500, `${what}: refused`)
    t.match(response.text, PROXY_FAULTS.sessionInvalid.message, 'with the session fault')
  }
  t.equal(s.campaign.requests.length, 0, 'Campaign received nothing')
  const fromNetwork = await send(s.soapRouter, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: pushEvent, localAddress: '127.0.0.2' })
  t.equal(fromNetwork.status, 200, 'the real network is admitted')
  t.equal(s.campaign.requests.length, 1, 'and only it reached Campaign')
})

t.test('X-Forwarded-For counts only from a trusted proxy', async t => {
  const s = await startProxyStack(t, { integrations: INTEGRATIONS, extra: 'unknownCallers: reject\ntrustedProxies: [127.0.0.3/32]' })
  const via = (from: string): ReturnType<typeof send> => send(s.soapRouter, { method: 'POST', headers: { 'content-type': 'text/xml', 'x-forwarded-for': '127.0.0.2' }, body: pushEvent, localAddress: from })
  t.equal((await via('127.0.0.1')).status, 500, 'an untrusted peer claiming the network is refused')
  t.equal((await via('127.0.0.3')).status, 200, 'the trusted proxy relaying a caller of the network is admitted')
  t.equal(s.campaign.requests.at(-1)?.headers['x-forwarded-for'], '127.0.0.2, 127.0.0.3', 'and the chain is extended with the proxy\'s peer')
})

t.test('a passthrough integration is admitted through the session Campaign gave it; unknown logins are not', async t => {
  const s = await startProxyStack(t, { integrations: INTEGRATIONS, extra: 'unknownCallers: reject', campaign: { imsMandatory: false } })
  const post = (body: string): ReturnType<typeof send> => send(s.soapRouter, { method: 'POST', headers: { 'content-type': 'text/xml' }, body, localAddress: '127.0.0.1' })
  const native = await post(logon('crm_operator', 'crm-password'))
  t.equal(native.status, 200, 'its native Logon is forwarded')
  const session = outputText(native.text, 'pstrSessionToken') as string
  const call = await post(getOption(session))
  t.equal(call.status, 200, 'its next call, with Campaign\'s session, is admitted')
  t.equal(s.campaign.requests.at(-1)?.body.toString(), getOption(session), 'and forwarded byte for byte')
  t.equal(s.campaign.requests.at(-1)?.headers.authorization, undefined, 'without a token')
  const failedLogon = await post(logon('crm_operator', 'wrong'))
  t.equal(failedLogon.status, 500, 'a failed native Logon returns Campaign\'s answer')
  t.match(failedLogon.text, 'XSV-350012', 'its own fault')
  const before = s.campaign.requests.length
  const stranger = await post(logon('admin', 'admin'))
  t.equal(stranger.status, 500, 'a login no integration has is refused')
  t.equal(s.campaign.requests.length, before, 'without reaching Campaign')
  const made = await post(getOption('___3f1c2e4d-aaaa-bbbb-cccc-000000000000'))
  t.equal(made.status, 500, 'a Campaign-shaped session the proxy never saw is refused')
})

t.test('compressed SOAP bodies are refused with a clear fault', async t => {
  const s = await startProxyStack(t, { integrations: INTEGRATIONS })
  const response = await send(s.soapRouter, { method: 'POST', headers: { 'content-type': 'text/xml', 'content-encoding': 'gzip' }, body: gzipSync(pushEvent), localAddress: '127.0.0.2' })
  t.equal(response.status, 415, '415')
  t.match(response.text, PROXY_FAULTS.contentEncoding.message, 'the fault names Content-Encoding')
  t.match(response.text, 'Content-Encoding: gzip', 'and the value received')
  t.equal(s.campaign.requests.length, 0, 'nothing forwarded')
  const identity = await send(s.soapRouter, { method: 'POST', headers: { 'content-type': 'text/xml', 'content-encoding': 'identity' }, body: pushEvent, localAddress: '127.0.0.2' })
  t.equal(identity.status, 200, 'Content-Encoding: identity is fine')
})
