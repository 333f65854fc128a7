// The envelope shapes legacy clients send (docs/compatibility.md): the session
// token, the SOAP Header credentials and the method are located whatever the
// prefixes, and only their contents are removed.
import t from 'tap'
import { emptied, locate, slice } from '../fixtures/soap-locate.js'

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/'
const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope'
const XSD = 'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'

t.test('acc-js-sdk: SOAP-ENV envelope, m: method prefix, credentials in the SOAP Header', async t => {
  const body = `<SOAP-ENV:Envelope ${XSD} xmlns:ns="urn:xtk:session" xmlns:SOAP-ENV="${SOAP11}">` +
    '<SOAP-ENV:Header><Cookie>__sessiontoken=___x</Cookie><X-Security-Token>@y==</X-Security-Token></SOAP-ENV:Header>' +
    `<SOAP-ENV:Body><m:GetOption xmlns:m="urn:xtk:session" SOAP-ENV:encodingStyle="${SOAP11}">` +
    '<sessiontoken xsi:type="xsd:string">___x</sessiontoken><name xsi:type="xsd:string">XtkDatabaseId</name>' +
    '</m:GetOption></SOAP-ENV:Body></SOAP-ENV:Envelope>'
  const location = locate(body)
  t.equal(location.soapMethod, 'xtk:session#GetOption', 'the method is xtk:session#GetOption')
  t.equal(location.urn, 'urn:xtk:session', 'the urn is the method namespace')
  t.equal(location.method, 'GetOption', 'the method is its local name')
  t.equal(location.soapVersion, '1.1', 'the envelope is SOAP 1.1')
  t.same(location.params.map(p => [p.qname, p.text]), [['sessiontoken', '___x'], ['name', 'XtkDatabaseId']], 'both parameters are located in order with their text')
  t.equal(location.paramsComplete, true, 'the method end tag was reached')
  t.equal(location.headerCookie?.text, '__sessiontoken=___x', 'the SOAP Header Cookie is located')
  t.equal(location.headerSecurityToken?.text, '@y==', 'the SOAP Header X-Security-Token is located')
  t.equal(slice(body, location.params[0]?.outer), '<sessiontoken xsi:type="xsd:string">___x</sessiontoken>', 'the outer range spans the whole token element')
  t.equal(location.headLength, body.indexOf('</m:GetOption>') + '</m:GetOption>'.length, 'the head ends with the method end tag')
  t.equal(emptied(body).toString(), body
    .replace('__sessiontoken=___x', '')
    .replace('@y==', '')
    .replace('>___x<', '><'), 'only the token, Cookie and X-Security-Token contents are removed')
})

t.test('SoapUI: soapenv envelope, urn: prefix declared on the envelope, DOM payload', async t => {
  const body = `<soapenv:Envelope xmlns:soapenv="${SOAP11}" xmlns:urn="urn:nms:rtEvent">\n<soapenv:Header/>\n<soapenv:Body>\n` +
    '  <urn:PushEvent>\n    <urn:sessiontoken>mc/pass</urn:sessiontoken>\n    <urn:domEvent>\n' +
    '      <!--You may enter ANY elements at this point-->\n      <rtEvent type="welcome" email="a@example.com"><ctx><sessiontoken>nested</sessiontoken></ctx></rtEvent>\n' +
    '    </urn:domEvent>\n  </urn:PushEvent>\n</soapenv:Body>\n</soapenv:Envelope>'
  const location = locate(body)
  t.equal(location.soapMethod, 'nms:rtEvent#PushEvent', 'the method is nms:rtEvent#PushEvent')
  t.same(location.params.map(p => [p.qname, p.text]), [['urn:sessiontoken', 'mc/pass'], ['urn:domEvent', '']], 'the token and the DOM parameter, with empty text, are located')
  t.equal(location.paramsComplete, true, 'the method end tag was reached')
  t.equal(location.headerCookie, undefined, 'a self-closed Header holds no Cookie')
  t.equal(location.headerSecurityToken, undefined, 'a self-closed Header holds no X-Security-Token')
  t.equal(emptied(body).toString(), body.replace('mc/pass', ''), "only the token's content is removed; the nested sessiontoken stays")
})

t.test('the Campaign console: __sessiontoken with single-quoted attributes', async t => {
  const body = `<?xml version='1.0' encoding='utf-8'?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV='${SOAP11}' ${XSD}>` +
    "<SOAP-ENV:Body><m:Logoff xmlns:m='urn:xtk:session'><__sessiontoken xsi:type='xsd:string'>___abc</__sessiontoken></m:Logoff>" +
    '</SOAP-ENV:Body></SOAP-ENV:Envelope>'
  const location = locate(body)
  t.equal(location.soapMethod, 'xtk:session#Logoff', 'the method is xtk:session#Logoff')
  t.equal(location.params[0]?.qname, '__sessiontoken', 'the token element keeps its console name')
  t.equal(location.params[0]?.text, '___abc', 'the token text is read')
  t.equal(emptied(body).toString(), body.replace('___abc', ''), 'only the token content is removed')
})

t.test('a default namespace on the method element', async t => {
  const body = `<SOAP-ENV:Envelope xmlns:SOAP-ENV="${SOAP11}"><SOAP-ENV:Body>` +
    '<Write xmlns="urn:xtk:session"><sessiontoken>tok</sessiontoken><domDoc><recipient xmlns="" email="x@y"/></domDoc></Write>' +
    '</SOAP-ENV:Body></SOAP-ENV:Envelope>'
  const location = locate(body)
  t.equal(location.soapMethod, 'xtk:session#Write', 'the default namespace gives the method its urn')
  t.equal(emptied(body).toString(), body.replace('>tok<', '><'), 'only the token content is removed')
})

t.test('a default namespace declared on the Body', async t => {
  const body = `<s:Envelope xmlns:s="${SOAP11}"><s:Body xmlns="urn:xtk:queryDef"><ExecuteQuery><sessiontoken>t</sessiontoken></ExecuteQuery></s:Body></s:Envelope>`
  t.equal(locate(body).soapMethod, 'xtk:queryDef#ExecuteQuery', "the method inherits the Body's default namespace")
})

t.test('a method prefix declared on the Body, overriding the envelope', async t => {
  const body = `<soap:Envelope xmlns:soap="${SOAP11}" xmlns:m="urn:wrong"><soap:Body xmlns:m="urn:nms:delivery"><m:Send><t>x</t></m:Send></soap:Body></soap:Envelope>`
  t.equal(locate(body).soapMethod, 'nms:delivery#Send', 'the nearest declaration of the prefix wins')
})

t.test('a method namespace with a pipe: urn:xtk:persist|xtk:session', async t => {
  const body = `<SOAP-ENV:Envelope xmlns:SOAP-ENV="${SOAP11}"><SOAP-ENV:Body>` +
    '<m:Write xmlns:m="urn:xtk:persist|xtk:session"><sessiontoken>tok</sessiontoken><domDoc><x/></domDoc></m:Write></SOAP-ENV:Body></SOAP-ENV:Envelope>'
  const location = locate(body)
  t.equal(location.urn, 'urn:xtk:persist|xtk:session', 'the urn is kept whole')
  t.equal(location.soapMethod, 'xtk:persist|xtk:session#Write', 'the SOAP method is built from it')
})

t.test('a namespace URI written with a character reference', async t => {
  const body = `<e:Envelope xmlns:e="${SOAP11}"><e:Body><m:Logon xmlns:m="urn&#x3a;xtk:session"/></e:Body></e:Envelope>`
  t.equal(locate(body).urn, 'urn:xtk:session', 'the namespace URI is decoded before it is compared')
})

t.test('SOAP 1.2', async t => {
  const body = `<env:Envelope xmlns:env="${SOAP12}"><env:Header><h:Cookie xmlns:h="urn:h">__sessiontoken=a</h:Cookie></env:Header>` +
    '<env:Body><m:Logon xmlns:m="urn:xtk:session"><sessiontoken/><login>u</login><password>p</password><parameters><x/></parameters></m:Logon></env:Body></env:Envelope>'
  const location = locate(body)
  t.equal(location.soapVersion, '1.2', 'the envelope is SOAP 1.2')
  t.equal(location.headerCookie?.qname, 'h:Cookie', 'a prefixed Header Cookie is recognised by its local name')
  t.same(location.params.map(p => p.text), ['', 'u', 'p', ''], "Logon's four parameters are located, the DOM one with empty text")
})

t.test('an envelope in the default namespace', async t => {
  const body = `<Envelope xmlns="${SOAP11}"><Header><Cookie>c</Cookie></Header><Body><Logoff xmlns="urn:xtk:session"><sessiontoken>t</sessiontoken></Logoff></Body></Envelope>`
  const location = locate(body)
  t.equal(location.soapMethod, 'xtk:session#Logoff', 'unprefixed Envelope, Header and Body are recognised')
  t.equal(emptied(body).toString(), body.replace('>c<', '><').replace('>t<', '><'), 'the Cookie and the token are emptied')
})

t.test('a self-closed token and an empty token', async t => {
  const selfClosed = `<s:Envelope xmlns:s="${SOAP11}"><s:Body><m:Logon xmlns:m="urn:xtk:session"><sessiontoken xsi:type="xsd:string"/><login>u</login></m:Logon></s:Body></s:Envelope>`
  const empty = selfClosed.replace('<sessiontoken xsi:type="xsd:string"/>', '<sessiontoken xsi:type="xsd:string"></sessiontoken>')
  const closedToken = locate(selfClosed).params[0]
  t.equal(closedToken?.content, undefined, 'a self-closed token has no content to empty')
  t.equal(closedToken?.text, '', 'a self-closed token has empty text')
  t.equal(slice(selfClosed, closedToken?.outer), '<sessiontoken xsi:type="xsd:string"/>', 'its outer range is the self-closed tag')
  t.equal(emptied(selfClosed).toString(), selfClosed, 'a body with a self-closed token is unchanged')
  const emptyToken = locate(empty).params[0]
  t.same(emptyToken?.content, { start: empty.indexOf('</sessiontoken>'), end: empty.indexOf('</sessiontoken>') }, 'an empty token has an empty content range')
  t.equal(emptied(empty).toString(), empty, 'a body with an empty token is unchanged')
})

t.test('a self-closed method has no parameters', async t => {
  const body = `<s:Envelope xmlns:s="${SOAP11}"><s:Body><m:Logoff xmlns:m="urn:xtk:session"/></s:Body></s:Envelope>`
  const location = locate(body)
  t.same(location.params, [], 'there are no parameters')
  t.equal(location.paramsComplete, true, 'and none was left unread')
  t.equal(location.headLength, body.indexOf('/>') + 2, 'the head ends with the self-closed method tag')
})

t.test('BOM, declaration, comments, processing instructions and whitespace before the envelope; CRLF line ends', async t => {
  const body = '\uFEFF<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<!-- a <Body> in a comment -->\r\n<?app x?>\r\n' +
    `<SOAP-ENV:Envelope\r\n  xmlns:SOAP-ENV="${SOAP11}"\r\n>\r\n<SOAP-ENV:Body\r\n>\r\n<!-- c -->\r\n<m:Logoff\r\n xmlns:m="urn:xtk:session">\r\n` +
    '<sessiontoken\r\n>tok</sessiontoken\r\n>\r\n</m:Logoff>\r\n</SOAP-ENV:Body>\r\n</SOAP-ENV:Envelope>\r\n'
  const location = locate(body)
  t.equal(location.soapMethod, 'xtk:session#Logoff', 'the method is found after the prolog')
  t.equal(location.params[0]?.text, 'tok', 'the token is read')
  t.equal(emptied(body).toString(), body.replace('>tok<', '><'), 'every other byte, BOM and CRLF included, is kept')
})

t.test('header elements other than the credentials are skipped, and only direct Header children count', async t => {
  const body = `<s:Envelope xmlns:s="${SOAP11}"><s:Header xmlns:w="urn:w"><w:Security><Cookie>nested</Cookie><X-Security-Token>nested</X-Security-Token></w:Security>` +
    '<X-Security-Token>@sec</X-Security-Token><w:Cookie>__sessiontoken=1</w:Cookie><Cookie>__sessiontoken=2</Cookie></s:Header>' +
    '<s:Body><m:Logoff xmlns:m="urn:xtk:session"><sessiontoken>t</sessiontoken></m:Logoff></s:Body></s:Envelope>'
  const location = locate(body)
  t.equal(location.headerSecurityToken?.text, '@sec', 'the direct X-Security-Token child is located, not the nested one')
  t.equal(location.headerCookie?.text, '__sessiontoken=1', 'the first direct Cookie child is located')
  t.same(location.headerCredentials.map(e => [e.qname, e.text]), [['X-Security-Token', '@sec'], ['w:Cookie', '__sessiontoken=1'], ['Cookie', '__sessiontoken=2']],
    'every direct credential child is listed in order')
})

t.test('a header credential that holds elements is located with empty text', async t => {
  const body = `<s:Envelope xmlns:s="${SOAP11}"><s:Header><Cookie><b>x</b></Cookie></s:Header>` +
    '<s:Body><m:Logoff xmlns:m="urn:xtk:session"><sessiontoken>t</sessiontoken></m:Logoff></s:Body></s:Envelope>'
  const location = locate(body)
  t.equal(location.headerCookie?.text, '', 'its text is empty')
  t.equal(slice(body, location.headerCookie?.content), '<b>x</b>', 'its content range covers the child elements')
})

t.test('text and comments around the Envelope children are ignored', async t => {
  const body = `<s:Envelope xmlns:s="${SOAP11}">stray<![CDATA[x]]><?pi?><s:Body>text<m:Logoff xmlns:m="urn:xtk:session">\n<sessiontoken>t</sessiontoken></m:Logoff></s:Body></s:Envelope>`
  t.equal(locate(body).soapMethod, 'xtk:session#Logoff', 'the method is the first element child of Body')
})
