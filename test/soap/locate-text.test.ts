// The decoded `text` of located elements: entities, character references,
// CDATA, comments and line ends as an XML parser reports them, untrimmed.
import t from 'tap'
import { locate, slice } from '../fixtures/soap-locate.js'

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/'
const withToken = (token: string): string =>
  `<s:Envelope xmlns:s="${SOAP11}"><s:Body><m:Logon xmlns:m="urn:xtk:session"><sessiontoken>${token}</sessiontoken></m:Logon></s:Body></s:Envelope>`
const textOf = (token: string): string | undefined => locate(withToken(token)).params[0]?.text

t.test('entity and character references are decoded', async t => {
  t.equal(textOf('&lt;&gt;&amp;&quot;&apos;'), '<>&"\'', 'the five predefined entities are decoded')
  t.equal(textOf('&#65;&#x42;&#x6a;&#x6B;'), 'ABjk', 'decimal and hexadecimal references are decoded, hex digits in either case')
  t.equal(textOf('&#x1F600;'), '\u{1F600}', 'a reference beyond the BMP is decoded')
  t.equal(textOf('a&#9;b&#10;c&#13;d'), 'a\tb\nc\rd', 'tab, line feed and carriage return references are decoded as is')
  t.equal(textOf('&#xD7FF;&#xE000;&#xFFFD;&#x10FFFF;'), '\ud7ff\ue000\ufffd\u{10ffff}', 'the edges of the allowed ranges are decoded')
  t.equal(textOf('mc/p&amp;ss&gt;'), 'mc/p&ss>', 'a login/password token is decoded')
  t.equal(textOf('a > b'), 'a > b', 'a literal ">" is text')
})

t.test('CDATA sections are decoded verbatim', async t => {
  t.equal(textOf('<![CDATA[<a>&amp;</a>]]>'), '<a>&amp;</a>', 'CDATA content is not parsed')
  t.equal(textOf('a&amp;<![CDATA[&]]>b<![CDATA[]]>c'), 'a&&bc', 'text and CDATA sections are concatenated')
  t.equal(textOf('<![CDATA[x]]]]><![CDATA[>y]]>'), 'x]]>y', 'a split "]]>" is rebuilt')
})

t.test('comments and processing instructions inside the text are skipped', async t => {
  t.equal(textOf('ab<!-- <x>y</x> -->cd<?pi data?>ef'), 'abcdef', 'the text around them is joined')
  t.equal(textOf('<!-- only -->'), '', 'a token holding only a comment has empty text')
})

t.test('line ends are normalised, whitespace is kept', async t => {
  t.equal(textOf('a\r\nb\rc\nd'), 'a\nb\nc\nd', 'CRLF and lone CR become LF in text')
  t.equal(textOf('<![CDATA[a\r\nb]]>'), 'a\nb', 'CRLF becomes LF in CDATA')
  t.equal(textOf('  \n\t tok \n'), '  \n\t tok \n', 'surrounding whitespace is not trimmed')
})

t.test('a token holding elements has empty text and a content range over them', async t => {
  const inner = '<x a="1"><sessiontoken>evil</sessiontoken><y/></x>tail'
  const body = withToken(inner)
  const token = locate(body).params[0]
  t.equal(token?.text, '', 'its text is empty')
  t.equal(slice(body, token?.content), inner, 'its content range covers the nested elements and text')
})
