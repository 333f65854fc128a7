// The scanner's shortcuts give the answers the plain reading gives:
// names met before (found by a hash, checked byte for byte, colliding
// hashes of other names included), names past the bound of the name
// table, non-ASCII and long names, encoding labels past their table, and
// runs and attribute values searched in JS then natively (NUL bytes and
// "<" found in either part).
import t from 'tap'
import { locate, outcome } from '../fixtures/soap-locate.js'

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/'
/** A Logon whose SOAP Header holds `entries`, and whose token is `token`. */
const withHeader = (entries: string, token = 't'): string =>
  `<s:Envelope xmlns:s="${SOAP11}"><s:Header>${entries}</s:Header><s:Body><m:Logon xmlns:m="urn:xtk:session"><sessiontoken>${token}</sessiontoken></m:Logon></s:Body></s:Envelope>`
const qnames = (body: string): string[] => locate(body).headerCredentials.map(e => e.qname)

t.test('names whose hashes collide are told apart', async t => {
  // "Aa" and "BB", "RpLhdGjC" and "XpHzbxV": the same 32-bit hash of their bytes.
  for (const [first, second] of [['Aa', 'BB'], ['RpLhdGjC', 'XpHzbxV']] as const) {
    const body = withHeader(`<${first}/><${second}/><${first}/><Cookie>c</Cookie><${second}>x</${second}>`)
    t.same(locate(body).headerCredentials.map(e => e.qname), ['Cookie'], `${first} and ${second}: the credential found`)
    t.equal(outcome(withHeader(`<${first}></${second}>`)), 'notXml', `${first} closed by ${second} is refused`)
    t.equal(outcome(withHeader(`<${second}></${first}>`)), 'notXml', `${second} closed by ${first} is refused`)
  }
})

t.test('past the bound of the name table, names are still read', async t => {
  const many = Array.from({ length: 700 }, (_, i) => `<n${i}>v</n${i}>`).join('')
  t.equal(outcome(withHeader(many)), 'found', '700 distinct names')
  t.same(qnames(withHeader(`${many}<X-Security-Token>s</X-Security-Token>`)), ['X-Security-Token'], 'and the names after them')
  t.equal(outcome(withHeader('<n699>v</n698>')), 'notXml', 'a mismatched pair among them is refused')
})

t.test('non-ASCII and long names are decoded as the document says', async t => {
  const accented = 'Événement'
  t.equal(outcome(withHeader(`<${accented}>v</${accented}>`)), 'found', 'a non-ASCII name')
  t.equal(outcome(withHeader(`<${accented}>v</Evenement>`)), 'notXml', 'closed by another spelling: refused')
  const latin1 = Buffer.concat([Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?>'), Buffer.from(withHeader('<\xc9t>v</\xc9t>'), 'latin1')])
  t.equal(outcome(latin1), 'found', 'a Latin-1 name in a Latin-1 document')
  const long = `L${'o'.repeat(100)}ng`
  t.equal(outcome(withHeader(`<${long}>v</${long}>`)), 'found', 'a name longer than the table keeps')
  t.equal(outcome(withHeader(`<${long}>v</${long}x>`)), 'notXml', 'and one that does not match it')
})

t.test('encoding labels past the bound of their table are still resolved', async t => {
  const spellings = ['utf-8', 'UTF-8', 'utf8', 'UTF8', 'unicode-1-1-utf-8', 'latin1', 'ISO-8859-1', 'us-ascii', 'windows-1252']
  const labels: string[] = []
  for (const spelling of spellings) {
    for (let mask = 0; mask < 8; mask++) labels.push([...spelling].map((c, i) => (mask >> (i % 3)) & 1 ? c.toUpperCase() : c.toLowerCase()).join(''))
  }
  const distinct = [...new Set(labels)]
  t.ok(distinct.length > 40, `${distinct.length} distinct labels`)
  for (const label of distinct) {
    const body = `<?xml version="1.0" encoding="${label}"?>${withHeader('<a/>')}`
    if (outcome(body) !== 'found') t.fail(`${label} was not accepted`)
  }
  t.equal(outcome(`<?xml version="1.0" encoding="no-such-encoding"?>${withHeader('<a/>')}`), 'unsupportedEncoding', 'an unknown label is refused')
  t.equal(outcome(`<?xml version="1.0" encoding="UTF-16"?>${withHeader('<a/>')}`), 'unsupportedEncoding', 'and one that is not ASCII-compatible')
})

t.test('runs and attribute values longer than the JS search are searched natively, with the same refusals', async t => {
  const long = 'v'.repeat(200)
  t.equal(locate(withHeader('<a/>', long)).params[0]?.text, long, 'a long token is read whole')
  t.equal(outcome(withHeader(`<a x="${long}"/>`)), 'found', 'a long attribute value')
  t.equal(outcome(withHeader(`<a x="${long}<"/>`)), 'notXml', '"<" in a long value, past the JS search')
  t.equal(outcome(withHeader('<a x="v<"/>')), 'notXml', '"<" in a short value')
  t.equal(outcome(withHeader(`<a x="${long}\0"/>`)), 'unsupportedEncoding', 'a NUL in a long value')
  t.equal(outcome(withHeader('<a x="v\0"/>')), 'unsupportedEncoding', 'a NUL in a short value')
  t.equal(outcome(withHeader('<a x="<v\0"/>')), 'unsupportedEncoding', '"<" then NUL: the NUL is what is refused, as before')
  t.equal(outcome(withHeader(`<a x="<${long}\0"/>`)), 'unsupportedEncoding', '"<" then a NUL past the JS search: the NUL')
  t.equal(outcome(withHeader('<a/>', `${long}\0`)), 'unsupportedEncoding', 'a NUL in a long token')
  t.equal(outcome(withHeader('<a/>', 'v\0')), 'unsupportedEncoding', 'a NUL in a short token')
  const head = withHeader('<a/>', long)
  t.equal(outcome(head.slice(0, head.indexOf(long) + 150), false), 'need-more', 'a long run cut by the end of what arrived: more is needed')
  t.equal(outcome(head.slice(0, head.indexOf(long) + 150), true), 'notXml', 'and a complete body ending there is refused')
})
