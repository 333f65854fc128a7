// The structure check's tables of tags met before give the answers a first
// reading gives: the same tag in another scope (its prefixes bound there or
// not), tags whose hashes collide, tags past the bound of the tables and
// longer than they keep, and a refused tag refused again.
import t from 'tap'
import { checkSoapStructure } from '../../src/soap/locate.js'
import { ProxyFault } from '../../src/soap/faults.js'

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/'
const START = { qname: 's:Envelope', namespaces: new Map([['s', SOAP11]]), namespace: SOAP11, contentStart: 0 }

/** 'ok' or the fault's name and detail for an Envelope holding `inside` (a Header and a Body). */
function outcome (inside: string): string {
  const text = `<s:Envelope xmlns:s="${SOAP11}">${inside}</s:Envelope>`
  try {
    checkSoapStructure(Buffer.from(text), { ...START, contentStart: text.indexOf('>') + 1 })
    return 'ok'
  } catch (err) {
    if (err instanceof ProxyFault) return `${err.fault}: ${String(err.detail)}`
    throw err
  }
}
const call = (params: string, header = ''): string => `${header}<s:Body><m:Logon xmlns:m="urn:xtk:session"><sessiontoken/>${params}</m:Logon></s:Body>`

t.test('a tag met before is checked again where it stands', async t => {
  const tag = '<x:p a="1" x:b="2"/>'
  t.equal(outcome(call(`<q xmlns:x="urn:x">${tag}</q>`)), 'ok', 'its prefixes bound by its parent: accepted')
  t.match(outcome(call(tag)), /notXml: the namespace prefix "x" is not declared/, 'the same tag where x is unbound: refused')
  t.match(outcome(call('<p x:b="2"/>')), /notXml: the namespace prefix "x" is not declared/, 'an attribute prefix unbound: refused')
  t.equal(outcome(call('<p xmlns:x="urn:x" x:b="2"/>')), 'ok', 'bound on the tag itself: accepted')
  t.equal(outcome(call('<p xmlns:x="urn:x" x:b="2"/>')), 'ok', 'and again')
  t.match(outcome(call('<p a="1" a="2"/>')), /repeated/, 'a repeated attribute is refused')
  t.match(outcome(call('<p a="1" a="2"/>')), /repeated/, 'and refused again')
  t.match(outcome(call('<p a="1" b/>')), /malformed attribute/, 'a malformed attribute is refused')
  t.match(outcome(call('<p a="1" b/>')), /malformed attribute/, 'and refused again')
})

t.test('tags whose hashes collide are told apart', async t => {
  // "jRsWfjc" and "jCHCAai", "fpmVmgMO" and "xBpPjdu": the same 32-bit hash of their bytes.
  for (const [first, second] of [['jRsWfjc', 'jCHCAai'], ['fpmVmgMO', 'xBpPjdu']] as const) {
    t.equal(outcome(call(`<${first}><a/></${first}><${second}><a/></${second}>`)), 'ok', `${first} then ${second}`)
    t.match(outcome(call(`<${first}><a/></${second}>`)), /notXml: end tag/, `${first} closed by ${second}: refused`)
    t.match(outcome(call(`<${second}><a/></${first}>`)), /notXml: end tag/, `${second} closed by ${first}: refused`)
  }
})

t.test('past the bound of the tables, and longer than they keep, tags are still checked', async t => {
  const many = Array.from({ length: 1200 }, (_, i) => `<n${i} a="${i}"><c/></n${i}>`).join('')
  t.equal(outcome(call(many)), 'ok', '1200 distinct tags')
  t.match(outcome(call(`${many}<late x:b="1"/>`)), /namespace prefix "x" is not declared/, 'a refusal after them')
  t.match(outcome(call('<n1199 a="1199"><c/></n1198>')), /notXml: end tag/, 'a mismatch among them')
  const long = `<p a="${'v'.repeat(600)}"><c/></p>`
  t.equal(outcome(call(long)), 'ok', 'a tag longer than the tables keep')
  t.match(outcome(call(`<p a="${'v'.repeat(600)}" x:b="1"/>`)), /namespace prefix "x" is not declared/, 'and its prefixes checked')
  const longName = `L${'o'.repeat(600)}ng`
  t.equal(outcome(call(`<${longName}/>`, `<s:Header><${longName}><c/></${longName}></s:Header>`)), 'ok', 'a long element name, start and end tags')
  t.match(outcome(call('', `<s:Header><${longName}><c/></${longName}x></s:Header>`)), /notXml: end tag/, 'and a long end tag that does not match')
})
