// Input the locator refuses (docs/architecture.md#body-paths), each with its ProxyFault:
// DOCTYPE/ENTITY declarations, what is not a SOAP envelope, envelopes
// without a method, and malformed markup in the scanned head.
import t from 'tap'
import { faultDetail, outcome } from '../fixtures/soap-locate.js'

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/'
const OPEN = `<s:Envelope xmlns:s="${SOAP11}"><s:Body><m:Logon xmlns:m="urn:xtk:session">`
const CLOSE = '</m:Logon></s:Body></s:Envelope>'
/** A valid envelope whose parameters are `params`. */
const withParams = (params: string): string => `${OPEN}${params}${CLOSE}`

t.test('DOCTYPE and ENTITY declarations are refused', async t => {
  const laughs = '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n' +
    ' <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">\n]>\n' + withParams('<sessiontoken>&lol2;</sessiontoken>')
  t.equal(outcome(laughs), 'doctype', 'a billion-laughs body is refused as a DOCTYPE')
  t.equal(outcome(`<!DOCTYPE s:Envelope SYSTEM "http://evil/x.dtd">${withParams('<t>x</t>')}`), 'doctype', 'an external DTD is refused')
  t.equal(outcome(`<!-- first --><!doctype x>${withParams('<t>x</t>')}`), 'doctype', 'a lower-case doctype after a comment is refused')
  t.equal(outcome(`<!ENTITY x "y">${withParams('<t>x</t>')}`), 'doctype', 'an ENTITY declaration before the envelope is refused')
  t.equal(outcome(withParams('<sessiontoken><!ENTITY x "y"></sessiontoken>')), 'doctype', 'an ENTITY declaration in the token is refused')
  t.equal(outcome(withParams('<sessiontoken>t</sessiontoken><d><x><!DOCTYPE y></x></d>')), 'doctype', 'a declaration inside a DOM parameter is refused')
  t.equal(outcome(withParams(`<sessiontoken>t</sessiontoken><d><x>${' '.repeat(5000)}<!DOCTYPE y></x></d>`)), 'found', 'a declaration past the scanned head is left to Campaign, which refuses it as not well-formed')
  t.equal(outcome(withParams('<sessiontoken><x><!entity y></x></sessiontoken>')), 'doctype', 'a declaration nested in the scanned token is refused')
  t.equal(outcome(withParams('<sessiontoken><![CDATA[<!DOCTYPE html>]]></sessiontoken>')), 'found', 'DOCTYPE text inside CDATA is not a declaration')
  t.equal(outcome(withParams('<sessiontoken><!-- <!DOCTYPE html> --></sessiontoken>')), 'found', 'DOCTYPE text inside a comment is not a declaration')
  t.match(faultDetail(`<!DOCTYPE x>${withParams('')}`), /DOCTYPE or ENTITY declaration at offset 0/, 'the detail gives the offset')
})

t.test('what is not XML, or not a SOAP envelope, is refused as notXml', async t => {
  t.equal(outcome(''), 'notXml', 'an empty body is refused')
  t.equal(outcome(' \r\n\t'), 'notXml', 'a whitespace-only body is refused')
  t.equal(outcome('hello'), 'notXml', 'plain text is refused')
  t.equal(outcome('{"sessiontoken": "x"}'), 'notXml', 'JSON is refused')
  t.equal(outcome('<?xml version="1.0"?>garbage'), 'notXml', 'text after the declaration is refused')
  t.equal(outcome('<?xml version="1.0"?><!-- only a comment -->'), 'notXml', 'a body without a root element is refused')
  t.equal(outcome('<html><body/></html>'), 'notXml', 'a root that is not Envelope is refused')
  t.equal(outcome('<s:Envelope xmlns:s="urn:not-soap"><s:Body/></s:Envelope>'), 'notXml', 'an Envelope outside the SOAP namespaces is refused')
  t.equal(outcome('<s:Envelope><s:Body/></s:Envelope>'), 'notXml', 'an Envelope with an undeclared prefix is refused')
  t.equal(outcome(`<s:Envelop xmlns:s="${SOAP11}"><s:Body/></s:Envelop>`), 'notXml', 'a misspelt Envelope is refused')
  t.equal(outcome(`<![CDATA[x]]><s:Envelope xmlns:s="${SOAP11}"/>`), 'notXml', 'CDATA before the root is refused')
  t.equal(outcome(`<!ELEMENT x ANY><s:Envelope xmlns:s="${SOAP11}"/>`), 'notXml', 'other declarations before the root are refused')
  t.match(faultDetail('<html/>'), /not a SOAP 1\.1 or SOAP 1\.2 Envelope/, 'the detail says why')
})

t.test('an envelope without a method is refused as noMethod', async t => {
  t.equal(outcome(`<s:Envelope xmlns:s="${SOAP11}"/>`), 'noMethod', 'a self-closed Envelope has no Body')
  t.equal(outcome(`<s:Envelope xmlns:s="${SOAP11}"></s:Envelope>`), 'noMethod', 'an empty Envelope has no Body')
  t.equal(outcome(`<s:Envelope xmlns:s="${SOAP11}"><s:Header/></s:Envelope>`), 'noMethod', 'an Envelope with only a Header has no Body')
  t.equal(outcome(`<s:Envelope xmlns:s="${SOAP11}"><s:Header/><s:Header/><s:Body/></s:Envelope>`), 'badStructure', 'a second Header where the Body belongs is refused')
  t.equal(outcome(`<s:Envelope xmlns:s="${SOAP11}"><Body><m:X xmlns:m="urn:a"/></Body></s:Envelope>`), 'noMethod', 'a Body outside the SOAP namespace is not the Body')
  t.equal(outcome(`<s:Envelope xmlns:s="${SOAP11}"><s:Body/></s:Envelope>`), 'noMethod', 'a self-closed Body is empty')
  t.equal(outcome(`<s:Envelope xmlns:s="${SOAP11}"><s:Body> <!-- none --> </s:Body></s:Envelope>`), 'noMethod', 'a Body without elements is empty')
  t.equal(outcome(`<s:Envelope xmlns:s="${SOAP11}"><s:Body><m:X xmlns:m="http://example.com/"/></s:Body></s:Envelope>`), 'noMethod', 'a method outside a urn: namespace is refused')
  t.equal(outcome(`<s:Envelope xmlns:s="${SOAP11}"><s:Body><Logon/></s:Body></s:Envelope>`), 'noMethod', 'a method without a namespace is refused')
  t.equal(outcome(`<s:Envelope xmlns:s="${SOAP11}"><s:Body><s:Fault/></s:Body></s:Envelope>`), 'noMethod', 'a Fault is not a method')
  t.match(faultDetail(`<s:Envelope xmlns:s="${SOAP11}"><s:Body><m:X xmlns:m="http://e/"/></s:Body></s:Envelope>`), /"m:X" is not in a urn: namespace/, 'the detail names the element')
  t.equal(faultDetail(`<s:Envelope xmlns:s="${SOAP11}"><s:Body><m:${'X'.repeat(1000)} xmlns:m="http://e/"/></s:Body></s:Envelope>`),
    `the method element "m:${'X'.repeat(62)}" is not in a urn: namespace`, 'request text quoted in a detail is cut to 64 characters')
  t.equal(outcome(`<s:Envelope xmlns:s="${SOAP11}"><s:Body><m:${'X'.repeat(5000)} xmlns:m="urn:x"/></s:Body></s:Envelope>`), 'notXml', 'a name over 1,024 bytes is refused')
  t.equal(outcome(`<s:Envelope xmlns:s="${SOAP11}"><s:Body><m:X xmlns:m="urn:${'x'.repeat(5000)}"/></s:Body></s:Envelope>`), 'notXml', 'so is a namespace name')
})

t.test('malformed markup in the scanned head is refused as notXml', async t => {
  t.equal(outcome(withParams('<sessiontoken>t</sessiontoken').slice(0, OPEN.length + 28)), 'notXml', 'an unterminated end tag at the end of the body is refused')
  t.equal(outcome(`${OPEN}<sessiontoken>t</sessiontoken>`), 'notXml', 'an envelope cut after the token is refused')
  t.equal(outcome(`${OPEN}<sessiontoken a="1`), 'notXml', 'an unterminated attribute value is refused')
  t.equal(outcome(`${OPEN}<sessiontoken`), 'notXml', 'a name running to the end of the body is refused')
  t.equal(outcome(`${OPEN}<!-- never closed`), 'notXml', 'an unterminated comment is refused')
  t.equal(outcome(`${OPEN}<? never closed`), 'notXml', 'an unterminated processing instruction is refused')
  t.equal(outcome(`${OPEN}<sessiontoken><![CDATA[never closed`), 'notXml', 'an unterminated CDATA section is refused')
  t.equal(outcome(withParams('<sessiontoken>t</token>')), 'notXml', 'a mismatched end tag in the token is refused')
  t.equal(outcome(withParams('<sessiontoken><a><b></a></b></sessiontoken>')), 'notXml', 'mismatched nesting in the token is refused')
  t.equal(outcome(`${OPEN}<sessiontoken>t</sessiontoken></m:Logoff></s:Body></s:Envelope>`), 'notXml', 'a method end tag that does not match is refused')
  t.equal(outcome(`<s:Envelope xmlns:s="${SOAP11}"><s:Header></s:Head><s:Body/></s:Envelope>`), 'notXml', 'a Header end tag that does not match is refused')
  t.equal(outcome(withParams('<sessiontoken a>t</sessiontoken>')), 'notXml', 'an attribute without a value is refused')
  t.equal(outcome(withParams('<sessiontoken a=1>t</sessiontoken>')), 'notXml', 'an unquoted attribute value is refused')
  t.equal(outcome(withParams('<sessiontoken a="1"b="2">t</sessiontoken>')), 'notXml', 'attributes without whitespace between them are refused')
  t.equal(outcome(withParams('<sessiontoken a="x<y">t</sessiontoken>')), 'notXml', 'a "<" in an attribute value is refused')
  t.equal(outcome(withParams('<sessiontoken/ >')), 'notXml', 'a "/" not followed by ">" is refused')
  t.equal(outcome(withParams('<sessiontoken>t</sessiontoken x>')), 'notXml', 'an end tag with an attribute is refused')
  t.equal(outcome(withParams('< sessiontoken>t</sessiontoken>')), 'notXml', 'a start tag without a name is refused')
  t.equal(outcome(withParams('<1a>t</1a>')), 'notXml', 'a name starting with a digit is refused')
  t.equal(outcome(withParams('<sessiontoken><!X></sessiontoken>')), 'notXml', 'unknown <! markup is refused')
  t.equal(outcome(`<s:Envelope xmlns:s="${SOAP11}" xmlns:s="${SOAP11}"><s:Body/></s:Envelope>`), 'notXml', 'a prefix declared twice on one element is refused')
})

t.test('invalid references in located text are refused as notXml', async t => {
  t.equal(outcome(withParams('<sessiontoken>a & b</sessiontoken>')), 'notXml', 'a bare ampersand is refused')
  t.equal(outcome(withParams('<sessiontoken>a &amp b</sessiontoken>')), 'notXml', 'a reference without its semicolon is refused')
  t.equal(outcome(withParams('<sessiontoken>&nbsp;</sessiontoken>')), 'notXml', 'an entity no DTD declares is refused')
  t.equal(outcome(withParams('<sessiontoken>&#0;</sessiontoken>')), 'notXml', 'a reference to U+0000 is refused')
  t.equal(outcome(withParams('<sessiontoken>&#x8;</sessiontoken>')), 'notXml', 'a reference to a control character is refused')
  t.equal(outcome(withParams('<sessiontoken>&#xD800;</sessiontoken>')), 'notXml', 'a reference to a surrogate is refused')
  t.equal(outcome(withParams('<sessiontoken>&#xFFFE;</sessiontoken>')), 'notXml', 'a reference to U+FFFE is refused')
  t.equal(outcome(withParams('<sessiontoken>&#x110000;</sessiontoken>')), 'notXml', 'a reference beyond U+10FFFF is refused')
  t.equal(outcome(withParams('<sessiontoken>&#12345678;</sessiontoken>')), 'notXml', 'a decimal reference too long to be a character is refused')
  t.equal(outcome(withParams('<sessiontoken>&#x;</sessiontoken>')), 'notXml', 'a hexadecimal reference without digits is refused')
  t.equal(outcome(withParams('<sessiontoken>&#X41;</sessiontoken>')), 'notXml', 'a hexadecimal reference with an upper-case X is refused')
  t.equal(outcome(`<s:Envelope xmlns:s="${SOAP11}"><s:Body><m:X xmlns:m="urn:&bad;"/></s:Body></s:Envelope>`), 'notXml', 'an invalid reference in a namespace URI is refused')
  t.equal(outcome(withParams('<sessiontoken>t</sessiontoken><login>&bad;</login>')), 'notXml', 'an invalid reference in a located text parameter is refused')
  t.equal(outcome(withParams('<sessiontoken>t</sessiontoken><d><x>&bad;</x></d>')), 'found', 'text nested in a DOM parameter is not decoded, so its references are left to Campaign')
})
