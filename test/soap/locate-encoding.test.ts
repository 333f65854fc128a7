// Encodings: offsets are bytes and markup is ASCII, so ASCII-compatible
// encodings are read (text decoded with the declared charset) and the
// others are refused as unsupportedEncoding (UTF-16 -> 415, docs/architecture.md#body-paths).
import t from 'tap'
import { emptied, locate, outcome } from '../fixtures/soap-locate.js'

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/'
const envelope = (token: string, payload = 'x'): string =>
  `<s:Envelope xmlns:s="${SOAP11}"><s:Body><m:Write xmlns:m="urn:xtk:session"><sessiontoken>${token}</sessiontoken>` +
  `<name>${payload}</name></m:Write></s:Body></s:Envelope>`
const declared = (encoding: string, body: string): string => `<?xml version="1.0" encoding="${encoding}"?>\n${body}`

t.test('UTF-16, UTF-32 and EBCDIC bodies are refused', async t => {
  const body = declared('UTF-16', envelope('t'))
  t.equal(outcome(Buffer.from(`\uFEFF${body}`, 'utf16le')), 'unsupportedEncoding', 'UTF-16 LE with a BOM is refused')
  t.equal(outcome(Buffer.from(`\uFEFF${body}`, 'utf16le').swap16()), 'unsupportedEncoding', 'UTF-16 BE with a BOM is refused')
  t.equal(outcome(Buffer.from(envelope('t'), 'utf16le')), 'unsupportedEncoding', 'UTF-16 LE without a BOM is refused by its NUL bytes')
  t.equal(outcome(Buffer.from(envelope('t'), 'utf16le').swap16()), 'unsupportedEncoding', 'UTF-16 BE without a BOM is refused by its NUL bytes')
  t.equal(outcome(Buffer.from([0xff, 0xfe, 0, 0, 0x3c, 0, 0, 0])), 'unsupportedEncoding', 'UTF-32 LE with a BOM is refused')
  t.equal(outcome(Buffer.from([0, 0, 0xfe, 0xff, 0, 0, 0, 0x3c])), 'unsupportedEncoding', 'UTF-32 BE with a BOM is refused')
  t.equal(outcome(Buffer.from([0x4c, 0x6f, 0xa7, 0x94, 0x93, 0x40])), 'unsupportedEncoding', 'EBCDIC, recognised by "<?xm", is refused')
})

t.test('a declared encoding that is not ASCII-compatible is refused', async t => {
  for (const encoding of ['UTF-16', 'utf-16le', 'ucs-2', 'UTF-32', 'cp037', 'ebcdic-cp-us', 'ibm500', 'Shift_JIS', 'ISO-2022-JP', 'x-unknown']) {
    t.equal(outcome(declared(encoding, envelope('t'))), 'unsupportedEncoding', `encoding="${encoding}" is refused`)
  }
  t.equal(outcome(`<?xml version='1.0' encoding='utf-16'?>${envelope('t')}`), 'unsupportedEncoding', 'a single-quoted declaration is read too')
  t.equal(outcome(`\n<?xml version="1.0" encoding="utf-16"?>${envelope('t')}`), 'notXml', 'a declaration after leading whitespace is refused: XML allows it only as the first bytes, and a strict parser refuses it')
  t.equal(outcome(`\uFEFF${declared('iso-8859-1', envelope('t'))}`), 'unsupportedEncoding', 'a UTF-8 BOM contradicting the declaration is refused')
  t.equal(outcome(`<?xml-stylesheet href="a" encoding="utf-16"?>${envelope('t')}`), 'found', 'a processing instruction that is not the declaration is not read')
})

t.test('ASCII-compatible encodings are read, and their text decoded', async t => {
  for (const encoding of ['utf-8', 'UTF8', 'us-ascii', 'ISO-8859-1', 'latin1', 'iso-8859-15', 'windows-1252', 'cp1252', 'koi8-r', 'euc-jp']) {
    t.equal(outcome(declared(encoding, envelope('t'))), 'found', `encoding="${encoding}" is read`)
  }
  t.equal(locate(envelope('t')).encoding, 'utf-8', 'without a declaration the body is UTF-8')
  t.equal(locate(`\uFEFF${declared('utf-8', envelope('t'))}`).encoding, 'utf-8', 'a UTF-8 BOM agrees with a UTF-8 declaration')
  t.equal(locate('<?xml version="1.0"?>' + envelope('t')).encoding, 'utf-8', 'a declaration without encoding means UTF-8')
})

t.test('ISO-8859-1 with non-ASCII bytes in the token and the payload', async t => {
  const body = Buffer.from(declared('ISO-8859-1', envelope('caf\u00e9', 'na\u00efve \u00e0 la r\u00e8gle')), 'latin1')
  const location = locate(body)
  t.equal(location.encoding, 'windows-1252', 'ISO-8859-1 is decoded as its WHATWG superset')
  t.equal(location.params[0]?.text, 'caf\u00e9', 'the token is decoded from latin1')
  t.equal(location.params[1]?.text, 'na\u00efve \u00e0 la r\u00e8gle', 'the payload parameter is decoded from latin1')
  t.same(location.params[0]?.content, { start: body.indexOf('caf'), end: body.indexOf('caf') + 4 }, 'the content range counts one byte per latin1 character')
  t.same(emptied(body), Buffer.from(declared('ISO-8859-1', envelope('', 'na\u00efve \u00e0 la r\u00e8gle')), 'latin1'), 'every other byte, latin1 ones included, is kept')
})

t.test('other single-byte encodings decode with their own table', async t => {
  /** `body` with its `#` replaced by the raw byte `byte`. */
  const withByte = (body: string, byte: number): Buffer => {
    const bytes = Buffer.from(body)
    return bytes.fill(byte, bytes.indexOf('#'), bytes.indexOf('#') + 1)
  }
  t.equal(locate(withByte(declared('windows-1252', envelope('#')), 0x80)).params[0]?.text, '\u20ac', 'byte 0x80 is the euro sign in windows-1252')
  t.equal(locate(withByte(declared('iso-8859-2', envelope('#')), 0xb1)).params[0]?.text, '\u0105', 'byte 0xB1 is a-ogonek in ISO-8859-2')
})

t.test('UTF-8 text: offsets are bytes, invalid sequences decode to U+FFFD', async t => {
  const body = envelope('\u00e9t\u00e9 \u{1F600}', '\u65e5\u672c')
  const location = locate(body)
  t.equal(location.params[0]?.text, '\u00e9t\u00e9 \u{1F600}', 'multi-byte characters are decoded')
  t.equal(location.params[0]?.content?.end, Buffer.from(body).indexOf('</sessiontoken>'), 'the content range ends at the byte offset of the end tag')
  t.equal(emptied(body).toString(), envelope('', '\u65e5\u672c'), 'the multi-byte token is removed whole')
  const invalid = Buffer.from(envelope('AB'))
  invalid[invalid.indexOf('AB')] = 0xff
  t.equal(locate(invalid).params[0]?.text, '\ufffdB', 'an invalid UTF-8 byte decodes to U+FFFD')
})

t.test('NUL bytes in the scanned head are refused', async t => {
  const nul = (body: string): Buffer => Buffer.from(body.replace('@', '\0'))
  t.equal(outcome(nul(envelope('a@b'))), 'unsupportedEncoding', 'a NUL byte in the token is refused')
  t.equal(outcome(nul(envelope('t').replace('<s:Body>', '<s:Body><!--@-->'))), 'unsupportedEncoding', 'a NUL byte in a comment is refused')
  t.equal(outcome(nul(envelope('t').replace('<sessiontoken>', '<sessiontoken a="@">'))), 'unsupportedEncoding', 'a NUL byte in an attribute value is refused')
  t.equal(outcome(nul(envelope('t').replace('<sessiontoken>', '<sessiontoken@>'))), 'unsupportedEncoding', 'a NUL byte after a name is refused')
  t.equal(outcome(nul(`@${envelope('t')}`)), 'unsupportedEncoding', 'a NUL byte before the root is refused')
  t.equal(outcome(nul(`<!@>${envelope('t')}`)), 'unsupportedEncoding', 'a NUL byte after "<!" is refused')
  t.equal(outcome(nul(`${envelope('t')}@`)), 'found', 'a NUL byte after the scanned head is left to Campaign')
})
