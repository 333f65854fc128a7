// The non-SOAP pages legacy integrations call: /r/test, ping.jsp,
// mcPing.jsp, the schema WSDL, and what unknown paths and methods get.
import { XMLParser } from 'fast-xml-parser'
import t from 'tap'
import { Clock, imsToken, logon, startSims } from '../fixtures/campaign-sims.js'
import { rawBody, rawExchange, send } from '../fixtures/http.js'
import { MESSAGES } from '../fixtures/soap.js'

t.test('GET /r/test: the redir attributes', async t => {
  const { campaign } = await startSims(t)
  const host = new URL(campaign.url).host
  const response = await send(`${campaign.url}/r/test`)
  t.equal(response.status, 200, '/r/test is answered 200')
  t.equal(response.headers['content-type'], 'text/xml;charset=utf-8', 'as XML')
  t.equal(response.text, '<redir status=\'OK\' date=\'2026-11-23 09:00:00.000Z\' build=\'9372\' sha1=\'c0ffee1\' instance=\'acme_mkt_stage1\' ' +
    `sourceIP='127.0.0.1' host='${host}' localHost='acme_mkt_stage1-1'/>`, 'the redir element carries status, date, build, instance, the caller address and the host')
})

t.test('GET /r/test: sourceIP from the first X-Forwarded-For entry; no Host header', async t => {
  const { campaign } = await startSims(t, { instanceName: 'acme_mkt_prod1', buildNumber: '9400' })
  const forwarded = await send(`${campaign.url}/r/test`, { headers: { 'x-forwarded-for': ' 203.0.113.7 , 10.0.0.1', host: "cam'paign.example.test" } })
  t.equal(forwarded.text, "<redir status='OK' date='2026-11-23 09:00:00.000Z' build='9400' sha1='c0ffee1' instance='acme_mkt_prod1' " +
    "sourceIP='203.0.113.7' host='cam&apos;paign.example.test' localHost='acme_mkt_prod1-1'/>", 'the first forwarded address is the source and the host is escaped')
  const noHost = rawBody(await rawExchange(campaign.url, 'GET /r/test HTTP/1.0'))
  t.equal(noHost, "<redir status='OK' date='2026-11-23 09:00:00.000Z' build='9400' sha1='c0ffee1' instance='acme_mkt_prod1' " +
    "sourceIP='127.0.0.1' host='' localHost='acme_mkt_prod1-1'/>", 'an HTTP/1.0 request without a Host header gets an empty host')
})

t.test('ping.jsp and mcPing.jsp', async t => {
  const { campaign, clock } = await startSims(t)
  const ping = await send(`${campaign.url}/nl/jsp/ping.jsp`)
  t.same([ping.status, ping.headers['content-type'], ping.text], [200, 'text/plain;charset=utf-8', 'OK\n2026-11-23 09:00:00.000Z\n'], 'ping.jsp answers OK and the server time')
  clock.advance(61_234)
  const mcPing = await send(`${campaign.url}/nl/jsp/mcPing.jsp`)
  t.same([mcPing.status, mcPing.text], [200, 'Ok\n2026-11-23 09:01:01.234Z\n0/400 pending events\n'], 'mcPing.jsp answers Ok, the time and the pending events')
})

t.test('unknown paths are 404, GET on the SOAP router is 405', async t => {
  const { campaign } = await startSims(t)
  const unknown = await send(`${campaign.url}/nl/jsp/logon.jsp`)
  t.same([unknown.status, unknown.headers['content-type'], unknown.text], [404, 'text/plain;charset=utf-8', 'Not found\n'], 'an unknown path is answered 404')
  const get = await send(campaign.soapRouterUrl)
  t.same([get.status, get.headers.allow, get.text], [405, 'POST', 'The SOAP router only accepts POST.\n'], 'GET on soaprouter.jsp is answered 405 with Allow: POST')
  const put = await send(campaign.soapRouterUrl, { method: 'PUT', body: '<x/>' })
  t.equal(put.status, 405, 'so is PUT')
})

const wsdlParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['wsdl:operation', 'wsdl:message', 's:element'].includes(name) })

interface Wsdl {
  'wsdl:definitions': {
    targetNamespace: string
    'wsdl:portType': { name: string, 'wsdl:operation': { name: string }[] }
    'wsdl:binding': { 'wsdl:operation': { name: string, 'soap:operation': { soapAction: string } }[] }
    'wsdl:service': { name: string, 'wsdl:port': { 'soap:address': { location: string } } }
    'wsdl:types': { 's:schema': { 's:element': { name: string, 's:complexType': { 's:sequence': { 's:element'?: { name: string, type: string }[] } } }[] } }
  }
}

t.test('schemawsdl.jsp?schema=nms:rtEvent is a WSDL with PushEvent and PushEvents', async t => {
  const { campaign } = await startSims(t)
  const response = await send(`${campaign.url}/nl/jsp/schemawsdl.jsp?schema=nms:rtEvent`, { headers: { host: 'campaign.example.test' } })
  t.equal(response.status, 200, 'the WSDL is answered 200')
  t.equal(response.headers['content-type'], 'text/xml;charset=utf-8', 'as XML')
  const wsdl = (wsdlParser.parse(response.text) as Wsdl)['wsdl:definitions']
  t.equal(wsdl.targetNamespace, 'urn:nms:rtEvent', 'the target namespace is urn:nms:rtEvent')
  t.same(wsdl['wsdl:portType']['wsdl:operation'].map(o => o.name), ['PushEvent', 'PushEvents'], 'the port type has the operations PushEvent and PushEvents')
  t.same(wsdl['wsdl:binding']['wsdl:operation'].map(o => o['soap:operation'].soapAction), ['nms:rtEvent#PushEvent', 'nms:rtEvent#PushEvents'], 'bound with Campaign SOAPActions')
  t.equal(wsdl['wsdl:service']['wsdl:port']['soap:address'].location, 'http://campaign.example.test/nl/jsp/soaprouter.jsp', 'the soap:address is built from the Host header')
  const pushEvent = wsdl['wsdl:types']['s:schema']['s:element'].find(e => e.name === 'PushEvent')
  t.same(pushEvent?.['s:complexType']['s:sequence']['s:element'], [{ maxOccurs: '1', minOccurs: '1', name: 'sessiontoken', type: 's:string' }, { maxOccurs: '1', minOccurs: '1', name: 'domEvent', type: 'tns:Element' }],
    'PushEvent takes the sessiontoken then the event document')
  const pushEventResponse = wsdl['wsdl:types']['s:schema']['s:element'].find(e => e.name === 'PushEventResponse')
  t.same(pushEventResponse?.['s:complexType']['s:sequence']['s:element'], [{ maxOccurs: '1', minOccurs: '1', name: 'plId', type: 's:long' }], 'and returns plId, a long')
})

t.test('schemawsdl.jsp: xtk:session includes its persist interface; X-Forwarded-Proto and a missing Host', async t => {
  const { campaign } = await startSims(t)
  const response = await send(`${campaign.url}/nl/jsp/schemawsdl.jsp?schema=xtk:session`, { headers: { host: 'campaign.example.test:8443', 'x-forwarded-proto': 'https' } })
  const wsdl = (wsdlParser.parse(response.text) as Wsdl)['wsdl:definitions']
  t.same(wsdl['wsdl:portType']['wsdl:operation'].map(o => o.name), ['Logon', 'BearerTokenLogon', 'Logoff', 'GetOption', 'GetUserInfo', 'Write', 'GetEntityIfMoreRecent'],
    "the session methods then the persist interface's")
  const logoff = wsdl['wsdl:types']['s:schema']['s:element'].find(e => e.name === 'LogoffResponse')
  t.same(logoff?.['s:complexType']['s:sequence'], '', 'LogoffResponse has an empty sequence')
  t.equal(wsdl['wsdl:service']['wsdl:port']['soap:address'].location, 'https://campaign.example.test:8443/nl/jsp/soaprouter.jsp', 'X-Forwarded-Proto sets the scheme')
  const noHost = await rawExchange(campaign.url, 'GET /nl/jsp/schemawsdl.jsp?schema=xtk:queryDef HTTP/1.0')
  t.match(noHost, '<soap:address location="http://127.0.0.1/nl/jsp/soaprouter.jsp"/>', 'without a Host header the address falls back to 127.0.0.1')
})

t.test('schemawsdl.jsp: missing schema 400, unknown schema 404', async t => {
  const { campaign } = await startSims(t, { imsMandatory: true })
  const missing = await send(`${campaign.url}/nl/jsp/schemawsdl.jsp`)
  t.same([missing.status, missing.text], [400, 'Missing schema parameter.\n'], 'without ?schema= the page answers 400')
  const unknown = await send(`${campaign.url}/nl/jsp/schemawsdl.jsp?schema=nms:delivery`)
  t.same([unknown.status, unknown.text], [404, "Unknown schema 'nms:delivery'.\n"], 'an unknown schema answers 404')
})

t.test('schemawsdl.jsp with imsMandatory needs authentication', async t => {
  const { ims, campaign, clock } = await startSims(t, { imsMandatory: true })
  const url = `${campaign.url}/nl/jsp/schemawsdl.jsp?schema=nms:rtEvent`
  const anonymous = await send(url)
  t.same([anonymous.status, anonymous.text], [401, `${MESSAGES.sessionInvalid}\n`], 'without a credential the WSDL is refused with 401')
  const token = await imsToken(ims)
  const withBearer = await send(url, { headers: { authorization: `Bearer ${token}` } })
  t.equal(withBearer.status, 200, 'with a bearer token it is served')
  t.match(withBearer.text, /^<\?xml version="1.0" encoding="utf-8"\?>\n<wsdl:definitions /, 'as a WSDL document')
  const admin = await logon(campaign, 'admin', 'admin')
  t.equal((await send(url, { headers: { 'x-security-token': admin.securityToken } })).status, 200, 'a native session of a regular operator is accepted too')
  const mc = await logon(campaign, 'mc', 'mc-password')
  t.equal(mc.response.status, 500, 'mc cannot log on')

  campaign.invalidBearerFault = 'ims-profile-401'
  clock.advance(86_399_000)
  const expired = await send(url, { headers: { authorization: `Bearer ${token}` } })
  t.same([expired.status, expired.text], [401, `${MESSAGES.imsProfile401('xtk:session', 'Logon')}\n`], 'an expired bearer gets 401 with the IMS profile message')
})

t.test('schemawsdl.jsp without imsMandatory is anonymous', async t => {
  const { campaign } = await startSims(t, { now: new Clock().now })
  t.equal((await send(`${campaign.url}/nl/jsp/schemawsdl.jsp?schema=nms:rtEvent`)).status, 200, 'the WSDL is served without credentials')
})
