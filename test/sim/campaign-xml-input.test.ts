// What the SOAP router does with unusual or hostile input: DOCTYPE,
// malformed XML, non-envelopes, missing methods, oversized bodies, declared
// encodings and BOMs, unknown methods.
import t from 'tap'
import { DATABASE_ID_RESPONSE, getOption, startSims } from '../fixtures/campaign-sims.js'
import { soapPost } from '../fixtures/http.js'
import { expectedFault, MESSAGES, SOAP11_NS, soapEnvelope } from '../fixtures/soap.js'

const LOGON = soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', 'admin'], ['password', 'admin']] })
const MALFORMED = (detail: string) => expectedFault(MESSAGES.malformed, detail)

/** A SOAP 1.1 envelope around a raw Body content. */
function withBody (content: string, extra = ''): string {
  return `<SOAP-ENV:Envelope xmlns:SOAP-ENV="${SOAP11_NS}"${extra}><SOAP-ENV:Body>${content}</SOAP-ENV:Body></SOAP-ENV:Envelope>`
}

t.test('a DOCTYPE is refused with SOP-330003 and nothing is executed', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true })
  const doctype = `<?xml version="1.0"?>\n<!DOCTYPE Envelope [<!ENTITY login "admin">]>\n${LOGON.replace('>admin<', '>&login;<')}`
  const response = await soapPost(campaign.soapRouterUrl, doctype)
  t.equal(response.status, 500, 'the request is answered 500')
  t.equal(response.text, MALFORMED('DOCTYPE and ENTITY declarations are not accepted'), 'with SOP-330003 and the reason')
  t.equal(campaign.sessionCount, 0, 'the Logon was not executed')
  const write = withBody('<m:Write xmlns:m="urn:xtk:session"><sessiontoken>admin/admin</sessiontoken><doc><recipient xtkschema="nms:recipient" email="x@example.com"/></doc></m:Write>')
  const entity = await soapPost(campaign.soapRouterUrl, `<!ENTITY x "y">${write}`)
  t.equal(entity.text, MALFORMED('DOCTYPE and ENTITY declarations are not accepted'), 'a bare ENTITY declaration is refused the same way')
  t.same(campaign.store.rows('nms:recipient'), [], 'the Write was not executed')
  t.equal(campaign.requests[0]?.soapMethod, undefined, 'the refused request is recorded without a SOAP method')
})

t.test('malformed XML is refused with SOP-330003', async t => {
  const { campaign } = await startSims(t)
  const response = await soapPost(campaign.soapRouterUrl, LOGON.replace('</m:Logon>', ''))
  t.equal(response.status, 500, 'the request is answered 500')
  t.match(response.text, /<faultstring xsi:type='xsd:string'>SOP-330003 The SOAP request could not be read\.<\/faultstring>\n<detail xsi:type='xsd:string'>malformed XML: .+ \(line 1\)<\/detail>/,
    'with SOP-330003 and the parser message and line in the detail')
  const empty = await soapPost(campaign.soapRouterUrl, '')
  t.equal(empty.text, MALFORMED('malformed XML: Start tag expected. (line 1)'), 'an empty body is malformed')
  const reserved = await soapPost(campaign.soapRouterUrl, withBody('<m:Logon xmlns:m="urn:xtk:session"><constructor/></m:Logon>'))
  t.match(reserved.text, /<detail xsi:type='xsd:string'>malformed XML: \[SECURITY\] Invalid name: &quot;constructor&quot;/, 'an element the parser refuses after validation is reported as malformed')
  const twoRoots = await soapPost(campaign.soapRouterUrl, `${withBody('')}<other/>`)
  t.equal(twoRoots.text, MALFORMED('expected exactly one root element'), 'two root elements are refused')
  t.equal(campaign.sessionCount, 0, 'nothing was executed')
})

t.test('a document that is not a SOAP envelope is refused with SOP-330003', async t => {
  const { campaign } = await startSims(t)
  const notEnvelope = MALFORMED('The document is not a SOAP envelope.')
  t.equal((await soapPost(campaign.soapRouterUrl, '<Logon xmlns="urn:xtk:session"><login>admin</login></Logon>')).text, notEnvelope, 'a bare method element is refused')
  t.equal((await soapPost(campaign.soapRouterUrl, LOGON.replace(`xmlns:SOAP-ENV="${SOAP11_NS}"`, 'xmlns:SOAP-ENV="http://example.com/envelope/"'))).text, notEnvelope,
    'an Envelope in another namespace is refused')
  t.equal((await soapPost(campaign.soapRouterUrl, LOGON.replace(` xmlns:SOAP-ENV="${SOAP11_NS}"`, ''))).text, notEnvelope, 'an Envelope whose prefix is not declared is refused')
})

t.test('an envelope without a method in a urn: namespace is refused with SOP-330003', async t => {
  const { campaign } = await startSims(t)
  const noMethod = MALFORMED('No method element in a urn: namespace in the SOAP Body.')
  t.equal((await soapPost(campaign.soapRouterUrl, withBody(''))).text, noMethod, 'an empty Body is refused')
  t.equal((await soapPost(campaign.soapRouterUrl, `<SOAP-ENV:Envelope xmlns:SOAP-ENV="${SOAP11_NS}"><SOAP-ENV:Header/></SOAP-ENV:Envelope>`)).text, noMethod, 'an Envelope without a Body is refused')
  t.equal((await soapPost(campaign.soapRouterUrl, withBody('<Logon xmlns="http://example.com/xtk/session"><sessiontoken/></Logon>'))).text, noMethod, 'a method outside urn: is refused')
  t.equal((await soapPost(campaign.soapRouterUrl, withBody('<Logon><sessiontoken/></Logon>'))).text, noMethod, 'a method in no namespace is refused')
})

t.test('a body over maxBodyBytes is answered 413 and not processed', async t => {
  const { campaign } = await startSims(t, { maxBodyBytes: 1024 })
  const big = LOGON.replace('<password', `<pad>${'x'.repeat(1024)}</pad><password`)
  const response = await soapPost(campaign.soapRouterUrl, big)
  t.same([response.status, response.headers['content-type'], response.headers.connection, response.text], [413, 'text/plain', 'close', 'Request body too large\n'],
    'the oversized body is answered 413 and the connection closed')
  t.equal(campaign.sessionCount, 0, 'the Logon was not executed')
  t.same(campaign.requests, [], 'nor recorded')
  const exact = LOGON.padEnd(1024, ' ')
  t.equal((await soapPost(campaign.soapRouterUrl, exact)).status, 200, 'a body of exactly maxBodyBytes is served')
})

t.test('an ISO-8859-1 declared body with a non-ASCII byte in a Write is stored correctly', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true })
  const text = '<?xml version="1.0" encoding="ISO-8859-1"?>\n' +
    withBody('<m:Write xmlns:m="urn:xtk:persist|xtk:session"><sessiontoken>admin/admin</sessiontoken>' +
      '<doc><recipient xtkschema="nms:recipient" _operation="insert" email="jurgen@example.com" lastName="Müller"/></doc></m:Write>')
  const body = Buffer.from(text, 'latin1')
  t.equal(body.indexOf(0xfc), text.indexOf('ü'), 'the request carries ü as the single byte 0xFC')
  const response = await soapPost(campaign.soapRouterUrl, body, { 'content-type': 'text/xml; charset=ISO-8859-1' })
  t.equal(response.status, 200, 'the Write succeeds')
  t.same(campaign.store.rows('nms:recipient'), [{ email: 'jurgen@example.com', lastName: 'Müller', id: '10000' }], 'the stored value is Müller')
})

t.test('declared encodings: latin1 aliases and UTF-8 aliases are read; others are refused', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true })
  const envelope = soapEnvelope({ schema: 'xtk:session', method: 'GetOption', sessionToken: 'admin/admin', params: [['name', 'XtkDatabaseId']] })
  for (const encoding of ['ISO-8859-1', 'latin1', 'ISO_8859-1', 'UTF-8', 'utf8', 'US-ASCII']) {
    const response = await soapPost(campaign.soapRouterUrl, `<?xml version='1.0' encoding='${encoding}'?>${envelope}`)
    t.equal(response.text, DATABASE_ID_RESPONSE, `encoding="${encoding}" is read`)
  }
  const utf16 = await soapPost(campaign.soapRouterUrl, `<?xml version="1.0" encoding="UTF-16"?>${envelope}`)
  t.equal(utf16.text, MALFORMED('unsupported encoding utf-16'), 'an unsupported encoding is refused with SOP-330003')
  const noEncoding = await soapPost(campaign.soapRouterUrl, `<?xml version="1.0"?>\n  ${envelope}\n`)
  t.equal(noEncoding.text, DATABASE_ID_RESPONSE, 'a declaration without encoding, and blanks around the root, are fine')
})

t.test('a UTF-8 BOM is skipped', async t => {
  const { campaign } = await startSims(t)
  const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`<?xml version="1.0" encoding="utf-8"?>${LOGON}`)])
  const response = await soapPost(campaign.soapRouterUrl, body)
  t.equal(response.status, 200, 'the Logon behind a BOM and a declaration succeeds')
  t.equal(campaign.sessionCount, 1, 'and opened a session')
})

t.test('namespaces: several declarations on one element, CDATA and entities in values', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true, operators: [{ login: 'ops', password: 'a<b&c' }] })
  const envelope = `<S:Envelope xmlns:S="${SOAP11_NS}" xmlns:x="urn:unused"><S:Body><Logon xmlns="urn:xtk:session" xmlns:y="urn:also-unused">` +
    '<sessiontoken/><login>ops</login><password><![CDATA[a<b]]>&amp;c</password></Logon></S:Body></S:Envelope>'
  const response = await soapPost(campaign.soapRouterUrl, envelope)
  t.equal(response.status, 200, 'the password made of CDATA and an entity is read as a<b&c')
  t.equal(campaign.requests[0]?.soapMethod, 'xtk:session#Logon', 'the default namespace declared next to a prefix is resolved')
  t.equal((await getOption(campaign, { sessionToken: 'ops/a<b&c' })).text, DATABASE_ID_RESPONSE, 'the escaped inline token is read back too')
})

t.test('an unknown method is refused with SOP-330011', async t => {
  const { campaign } = await startSims(t)
  const unknown = await soapPost(campaign.soapRouterUrl, withBody('<m:GetModifiedEntities xmlns:m="urn:xtk:session"><sessiontoken/></m:GetModifiedEntities>'))
  t.equal(unknown.status, 500, 'the unknown method is answered 500')
  t.equal(unknown.text, expectedFault(MESSAGES.methodError('xtk:session', 'GetModifiedEntities'), 'Method unknown to the simulator.'),
    'with SOP-330011 naming the method and the service, before any authentication')
  const schema = await soapPost(campaign.soapRouterUrl, withBody('<m:Prepare xmlns:m="urn:nms:delivery|nms:other"><sessiontoken/></m:Prepare>'))
  t.equal(schema.text, expectedFault(MESSAGES.methodError('nms:delivery|nms:other', 'Prepare'), 'Method unknown to the simulator.'), 'an unknown schema list is refused the same way')
})
