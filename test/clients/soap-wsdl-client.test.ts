// Compatibility matrix, a generic WSDL-driven client (the `soap` npm
// package): it fetches /nl/jsp/schemawsdl.jsp anonymously through the proxy
// (served with wsdl.technicalAccount against an IMS-only Campaign), then
// calls PushEvent with login/password and with a session from Logon.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import soap from 'soap'
import t from 'tap'
import { hashPassword } from '../../src/auth/passwords.js'
import { tempDir } from '../fixtures/config.js'
import { rawBody, rawExchange, soapPost } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'
import { outputText, soapEnvelope } from '../fixtures/soap.js'

const PASSWORD = 'wsdl-client-pw'

t.test('the soap client: anonymous WSDL, then PushEvent with login/password and with a Logon session', async t => {
  const hash = await hashPassword(PASSWORD, { N: 1024 })
  const s = await startProxyStack(t, {
    integrations: `  - { name: esb, login: esb_operator, passwordHash: '${hash}', technicalAccount: events }`,
    extra: 'unknownCallers: reject\nwsdl: { technicalAccount: marketing }',
  })
  const wsdlUrl = `${s.server.proxyUrl}/nl/jsp/schemawsdl.jsp?schema=nms:rtEvent`
  const client = await soap.createClientAsync(wsdlUrl)
  t.equal((client as unknown as { wsdl: { services: Record<string, { ports: Record<string, { location: string }> }> } }).wsdl.services.rtEventService?.ports.rtEventMethodsSoap?.location, s.soapRouter,
    "the WSDL's endpoint is the proxy (Campaign writes the Host it was asked for): the unchanged client keeps calling through the proxy")
  t.same(Object.keys(client.describe().rtEventService.rtEventMethodsSoap as object).sort(), ['PushEvent', 'PushEvents'], 'the WSDL was served through the proxy')
  const wsdlGet = s.campaign.requests.find(r => r.url.startsWith('/nl/jsp/schemawsdl.jsp'))
  t.equal(wsdlGet?.headers.authorization, `Bearer ${(await s.server.tokens.get('marketing')).value}`, 'Campaign got the anonymous WSDL GET with the wsdl account\'s token')
  t.equal(wsdlGet?.headers['x-forwarded-for'], '127.0.0.1', "and the caller's address in X-Forwarded-For")

  const [inline] = await client.PushEventAsync({ sessiontoken: `esb_operator/${PASSWORD}`, domEvent: { rtEvent: { attributes: { type: 'welcome', email: 'ann@example.com' } } } }) as [{ plId: { $value: number } }]
  t.equal(inline.plId.$value, 73000001, 'PushEvent with login/password returns the event id')
  const pushed = s.campaign.requests.at(-1)
  const events = await s.server.tokens.get('events')
  t.equal(pushed?.headers.authorization, `Bearer ${events.value}`, "Campaign received the integration's account token")
  t.notMatch(pushed?.body.toString(), PASSWORD, 'and no password in the body')
  t.equal(pushed?.headers.soapaction, '"nms:rtEvent#PushEvent"', "the WSDL's soapAction is forwarded as sent")

  const logon = await soapPost(s.soapRouter, soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', 'esb_operator'], ['password', PASSWORD], ['parameters', { xml: '' }]] }), {}, 'xtk:session#Logon')
  const session = outputText(logon.text, 'pstrSessionToken') as string
  const [withSession] = await client.PushEventAsync({ sessiontoken: session, domEvent: { rtEvent: { attributes: { type: 'welcome', email: 'bob@example.com' } } } }) as [{ plId: { $value: number } }]
  t.equal(withSession.plId.$value, 73000002, 'PushEvent with the proxy session works too')
  t.notMatch(s.campaign.requests.at(-1)?.body.toString(), session, 'and the session token never reached Campaign')
  t.same(s.campaign.events.map(e => e.attributes.email), ['ann@example.com', 'bob@example.com'], 'both events reached Campaign')
})

t.test('without wsdl.technicalAccount the anonymous WSDL GET is refused by an IMS-only Campaign', async t => {
  const s = await startProxyStack(t, { integrations: '  - { name: esb, networks: [10.0.0.0/8], technicalAccount: events }' })
  const response = await fetch(`${s.server.proxyUrl}/nl/jsp/schemawsdl.jsp?schema=nms:rtEvent`)
  t.equal(response.status, 401, "Campaign's refusal, passed on: this is what wsdl.technicalAccount is for")
  t.equal(s.campaign.requests.at(-1)?.headers.authorization, undefined, 'forwarded untouched, without a token')
})

t.test('a WSDL fetched without a usable Host names a relative endpoint: the soap client fails before sending, it does not call Campaign', async t => {
  const s = await startProxyStack(t, {
    integrations: '  - { name: esb, networks: [127.0.0.1/32], technicalAccount: events }',
    extra: 'wsdl: { technicalAccount: marketing }',
  })
  const answer = await rawExchange(s.server.proxyUrl, 'GET /nl/jsp/schemawsdl.jsp?schema=nms:rtEvent HTTP/1.0')
  const file = join(await tempDir(t), 'rtEvent.wsdl')
  await writeFile(file, rawBody(answer))
  const client = await soap.createClientAsync(file)
  t.equal((client as unknown as { wsdl: { services: Record<string, { ports: Record<string, { location: string }> }> } }).wsdl.services.rtEventService?.ports.rtEventMethodsSoap?.location, '/nl/jsp/soaprouter.jsp',
    'the client reads the relative endpoint')
  const before = s.campaign.requests.length
  await t.rejects(client.PushEventAsync({ sessiontoken: '', domEvent: { rtEvent: { attributes: { type: 'welcome', email: 'ann@example.com' } } } }), /Invalid URL/, 'calling it fails at once (listen.publicUrl is the fix)')
  t.equal(s.campaign.requests.length, before, 'and no request reached Campaign')
})
