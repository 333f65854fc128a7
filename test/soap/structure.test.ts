// The envelope structure check on its own: every rule, and the same answer
// whatever the chunking (a streamed body is checked chunk by chunk).
import t from 'tap'
import { checkSoapStructure, SoapStructureCheck } from '../../src/soap/locate.js'
import { MAX_TAG_BYTES } from '../../src/soap/structure.js'
import { ProxyFault } from '../../src/soap/faults.js'
import { locate } from '../fixtures/soap-locate.js'

const NS = 'xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"'
const NAMESPACE_OF = (text: string): string => text.startsWith('<e:') ? 'http://www.w3.org/2003/05/soap-envelope' : 'http://schemas.xmlsoap.org/soap/envelope/'
/** The scanner's EnvelopeStart, when it locates the body at all. */
function locateStart (text: string): unknown {
  try {
    return locate(text).envelope
  } catch {
    return { qname: 's:Envelope', namespaces: new Map([['s', NAMESPACE_OF(text)]]), namespace: NAMESPACE_OF(text), contentStart: text.indexOf('>') + 1 }
  }
}
const env = (inside: string, after = ''): string => `<s:Envelope ${NS}>${inside}</s:Envelope>${after}`
const method = (params = '<sessiontoken/>'): string => `<m:GetOption xmlns:m="urn:xtk:session">${params}</m:GetOption>`
const body = (inside: string): string => `<s:Body>${inside}</s:Body>`

/** 'ok' or the fault name and detail, checking `text` in chunks of `chunk` bytes (whole when 0). */
function outcome (text: string, chunk = 0): string {
  const buffer = Buffer.from(text)
  const start = { qname: text.startsWith('<e:') ? 'e:Envelope' : 's:Envelope', namespaces: new Map([[text.startsWith('<e:') ? 'e' : 's', NAMESPACE_OF(text)]]), namespace: NAMESPACE_OF(text), contentStart: text.indexOf('>') + 1 }
  if (text.startsWith('<s:')) t.same(locateStart(text), start, 'the start is the one the locating scan reports')
  try {
    if (chunk === 0) {
      checkSoapStructure(buffer, start)
    } else {
      const check = new SoapStructureCheck(start)
      for (let at = start.contentStart; at < buffer.length; at += chunk) check.push(buffer.subarray(at, at + chunk))
      check.end()
      check.end()
    }
    return 'ok'
  } catch (err) {
    if (!(err instanceof ProxyFault)) throw err
    return `${err.fault}: ${err.detail ?? ''}`
  }
}

const VALID: readonly (readonly [string, string])[] = [
  ['the smallest envelope', env(body(method()))],
  ['a Header first', env(`<s:Header><Cookie>__sessiontoken=x</Cookie></s:Header>${body(method())}`)],
  ['a self-closed Header', env(`<s:Header/>${body(method())}`)],
  ['a self-closed method', env(body('<m:Logoff xmlns:m="urn:xtk:session"/>'))],
  ['comments, CDATA, PIs and whitespace', env(`\n <!-- a - b --> <?pi data?>${body(`<!---->${method('<sessiontoken><![CDATA[<x>]]></sessiontoken><p><![CDATA[]]]]><![CDATA[>]]></p><!-- c -->')}`)}\n`, '\n<!-- after --><?after x?>\n')],
  ['attributes in both quotes, xml: prefix, declared prefixes', env(body(method('<sessiontoken xsi:type=\'xsd:string\' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/><p xml:lang="en" a = \'x"y\' b="x\'y"><q:r xmlns:q="urn:q" q:s="1"/></p>')))],
  ['a default namespace and an end tag with spaces', env(body('<GetOption xmlns="urn:xtk:session"><sessiontoken></sessiontoken ></GetOption >'))],
  ['a __sessiontoken first', env(body(method('<__sessiontoken/><name>x</name>')))],
  ['SOAP 1.2', `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>${method()}</e:Body></e:Envelope>`],
  ['a large parameter', env(body(method(`<sessiontoken/><p a="${'v'.repeat(20_000)}">${'t'.repeat(50_000)}</p>`)))],
  ['elements inside parameters and Header entries, with their end tags spaced', env(`<s:Header><Cookie><a x="1"><b/></a ></Cookie></s:Header>${body(method('<sessiontoken/><p><a q:x="unbound inside a value is not read"><b/>text<c></c></a></p>'))}`)],
  ['the predefined xml: prefix on an element', env(body(method('<sessiontoken/><xml:a/>')))],
  ['a stylesheet processing instruction', env(body(method()), '<?xml-stylesheet href="a"?>')],
]

const INVALID: readonly (readonly [string, string, RegExp])[] = [
  ['a second method', env(body(method() + method())), /^badStructure: a second method element/],
  ['a second Body', env(body(method()) + body(method())), /^badStructure: an element after the SOAP Body/],
  ['a Header after the Body', env(body(method()) + '<s:Header/>'), /^badStructure: an element after the SOAP Body/],
  ['an element where the Header or Body belongs', env('<x/>' + body(method())), /^badStructure: "x" where the SOAP Header or Body/],
  ['a Body inside the Header', env(`<s:Header>${body(method())}</s:Header>${body(method())}`), /^badStructure: a SOAP "Body" inside the SOAP Header/],
  ['a second session token', env(body(method('<sessiontoken/><SessionToken>x</SessionToken>'))), /^badStructure: a second session token/],
  ['a session token holding elements', env(body(method('<sessiontoken><a/></sessiontoken>'))), /^badStructure: the first parameter/],
  ['a second root element', env(body(method()), '<x/>'), /^badStructure: a second root element/],
  ['text after the Envelope', env(body(method()), 'x'), /^badStructure: text after the Envelope/],
  ['text in the Body', env(body(`x${method()}`)), /^badStructure: text outside the method/],
  ['CDATA in the Body', env(body(`<![CDATA[x]]>${method()}`)), /^badStructure: character data outside/],
  ['an end tag after the Envelope', env(body(method()), '</x>'), /^badStructure: an end tag after the Envelope/],
  ['"--" in a comment', env(body(method('<sessiontoken/><!-- a -- b -->'))), /^notXml: "--" inside a comment/],
  ['a comment ending in "--->"', env(body(method('<sessiontoken/><!-- a --->'))), /^notXml: "--" inside a comment/],
  ['an XML declaration', env(body(method('<sessiontoken/><?xml version="1.0"?>'))), /^notXml: an XML declaration/],
  ['an XML declaration without pseudo-attributes', env(body(method('<sessiontoken/><?XML?>'))), /^notXml: an XML declaration/],
  ['a DOCTYPE', env(body(method('<sessiontoken/><!DOCTYPE x>'))), /^doctype: /],
  ['an ENTITY', env(body(method('<sessiontoken/><!ENTITY x "y">'))), /^doctype: /],
  ['an end tag that does not match', env(body(method('<sessiontoken/><a></b>'))), /^notXml: end tag "b" does not close "a"/],
  ['an unbound element prefix', env(body(method('<sessiontoken/><q:a/>'))), /^notXml: the namespace prefix "q" is not declared/],
  ['an unbound attribute prefix', env(body(method('<sessiontoken/><a q:b="1"/>'))), /^notXml: the namespace prefix "q" is not declared/],
  ['a repeated attribute', env(body(method('<sessiontoken/><a b="1" b="2"/>'))), /^notXml: the attribute "b" is repeated/],
  ['an unquoted attribute', env(body(method('<sessiontoken/><a b=1/>'))), /^notXml: a malformed attribute/],
  ['an attribute without a value', env(body(method('<sessiontoken/><a b/>'))), /^notXml: a malformed attribute/],
  ['"<" in an attribute value', env(body(method('<sessiontoken/><a b="<"/>'))), /^notXml: a malformed attribute/],
  ['"<" inside a tag', env(body(method('<sessiontoken/><a <b/>'))), /^notXml: "<" inside a tag/],
  ['a tag without a name', env(body(method('<sessiontoken/>< a/>'))), /^notXml: a start tag without a name/],
  ['inside a parameter: an end tag that does not match', env(body(method('<sessiontoken/><p><a><b></a></b></p>'))), /^notXml: an end tag that does not close/],
  ['inside a parameter: an end tag for nothing open', env(body(method('<sessiontoken/><p><a/></a></p>'))), /^notXml: end tag "a" does not close "p"/],
  ['inside a parameter: a tag without a name', env(body(method('<sessiontoken/><p>< a/></p>'))), /^notXml: a tag without a name/],
  ['inside a parameter: an end tag without a name', env(body(method('<sessiontoken/><p><a></ ></p>'))), /^notXml: a tag without a name/],
  ['inside a parameter: a malformed end tag', env(body(method('<sessiontoken/><p><a></a b></p>'))), /^notXml: a malformed end tag/],
  ['inside a parameter: "--" in a comment', env(body(method('<sessiontoken/><p><a><!-- -- --></a></p>'))), /^notXml: "--" inside a comment/],
  ['inside a parameter: an XML declaration', env(body(method('<sessiontoken/><p><a><?xml version="1.0"?></a></p>'))), /^notXml: an XML declaration/],
  ['the body ends inside a parameter', `<s:Envelope ${NS}><s:Body><m:GetOption xmlns:m="urn:xtk:session"><sessiontoken/><p><a>`, /^notXml: the body ends inside a parameter/],
  ['the body ends inside a tag', `<s:Envelope ${NS}><s:Body>${method().slice(0, -3)}`, /^notXml: the body ends inside markup/],
  ['the body ends inside a comment', `<s:Envelope ${NS}><s:Body>${method()}</s:Body><!-- x`, /^notXml: the body ends inside markup/],
  ['the body ends before an end tag', `<s:Envelope ${NS}><s:Body>${method()}`, /^notXml: the body ends before the end tag of "s:Body"/],
  ['the body ends at "<"', `<s:Envelope ${NS}><s:Body>${method()}</s:Body></s:Envelope><`, /^notXml: the body ends inside markup/],
]

t.test('valid envelopes pass, whole or in chunks of any size', async t => {
  for (const [what, text] of VALID) {
    for (const chunk of [0, 1, 2, 3, 5, 7, 16, 1000]) t.equal(outcome(text, chunk), 'ok', `${what} (chunks of ${chunk || 'all'})`)
  }
})

t.test('each rule refuses, whole or in chunks of any size', async t => {
  for (const [what, text, expected] of INVALID) {
    for (const chunk of [0, 1, 2, 3, 5, 7, 1000]) t.match(outcome(text, chunk), expected, `${what} (chunks of ${chunk || 'all'})`)
  }
})

t.test('an incomplete tag is held up to MAX_TAG_BYTES', async t => {
  const huge = env(body(method(`<sessiontoken/><a b="${'x'.repeat(2 * MAX_TAG_BYTES)}"/>`)))
  t.match(outcome(huge, 64 * 1024), /^notXml: a tag longer than/, 'streamed: a tag over the bound is refused')
  t.equal(outcome(huge), 'ok', 'whole: the tag is in the buffer, nothing is held')
})
