/**
 * The byte scanner behind `locateSoap` (see locate.ts for why a scanner).
 *
 * It walks the body forward once, from the prolog to the method's parameters,
 * and never past what it needs. Every decision depends only on bytes it has
 * seen: when the buffer ends before a decision it throws `NEED_MORE` (or, on a
 * complete body, `notXml`), so a prefix of a body either needs more or gives
 * the body's own answer, whatever the chunking.
 *
 * DOCTYPE and ENTITY declarations are refused wherever the scan meets them.
 * Past the scanned part a DOCTYPE can no longer be in the prolog, the only
 * place XML allows it, so Campaign's parser rejects it as not well-formed
 * rather than expanding anything.
 */
import { BANG, ByteTable, DOUBLE_QUOTE, EQUALS, GT, isWhitespace, LT, QUESTION, SINGLE_QUOTE, SLASH } from './bytes.js'
import { ProxyFault, type ProxyFaultName } from './faults.js'

export const SOAP11_ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/'
export const SOAP12_ENVELOPE_NS = 'http://www.w3.org/2003/05/soap-envelope'
/** sessiontoken plus Logon's login, password and parameters. */
export const DEFAULT_MAX_PARAMS = 4
/**
 * Room for each parameter after the first: Logon's login and password and
 * small DOM parameters fit; a larger one (a PushEvent's big `domEvent`, a
 * long text) is not needed by the proxy and would make the head grow with
 * the body, so the scan stops there.
 */
export const DEFAULT_MAX_PARAM_BYTES = 4096
/**
 * Longest element name or namespace name accepted in the scanned part:
 * Campaign's are a few dozen bytes (`urn:xtk:session`), and the proxy
 * must not build megabyte strings from what a caller sends.
 */
export const MAX_NAME_BYTES = 1024

export interface LocateOptions {
  /** How many of the method's parameters to locate; `DEFAULT_MAX_PARAMS` (Logon's four) by default. */
  readonly maxParams?: number
  /**
   * Bytes a parameter after the first may take, counted from the end of the
   * previous one (so comments and whitespace before it count); the scan stops
   * at the first that does not fit. `DEFAULT_MAX_PARAM_BYTES` by default.
   */
  readonly maxParamBytes?: number
  /**
   * How many parameters to locate for a given method (`urn#Method`), when
   * it matters which: the proxy needs Logon's login and password, and of
   * any other method only the session token. `maxParams` when not given.
   */
  readonly paramsFor?: (soapMethod: string) => number
}

export interface ScanLimits { readonly maxParams: number, readonly maxParamBytes: number, readonly paramsFor: ((soapMethod: string) => number) | undefined }

function nonNegativeInteger (name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`)
  return value
}

/** Validates the options (a wrong value is a programming error). */
export function scanLimitsOf (options: LocateOptions | undefined): ScanLimits {
  return {
    maxParams: nonNegativeInteger('maxParams', options?.maxParams ?? DEFAULT_MAX_PARAMS),
    maxParamBytes: nonNegativeInteger('maxParamBytes', options?.maxParamBytes ?? DEFAULT_MAX_PARAM_BYTES),
    paramsFor: options?.paramsFor,
  }
}

/** `[start, end)` byte offsets in the scanned buffer. */
export interface ByteRange { readonly start: number, readonly end: number }

export interface LocatedElement {
  /** The element name as written, e.g. `urn:sessiontoken`. */
  readonly qname: string
  /** The element's content; undefined for a self-closed element (nothing to empty). */
  readonly content: ByteRange | undefined
  /** Decoded character data (entities, character references, CDATA); '' when the element holds elements. */
  readonly text: string
  /** The whole element, from `<` of its start tag to `>` of its end tag (or of `/>`). */
  readonly outer: ByteRange
}

/** The Envelope start tag, where the structure check (structure.ts) starts. */
export interface EnvelopeStart {
  readonly qname: string
  readonly namespaces: ReadonlyMap<string, string> | undefined
  /** The envelope namespace (SOAP 1.1 or 1.2). */
  readonly namespace: string
  /** Offset just after the Envelope start tag, in the body. */
  readonly contentStart: number
}

export interface SoapLocation {
  /** The method element's namespace, e.g. `urn:xtk:session` or `urn:xtk:persist|xtk:session`. */
  readonly urn: string
  /** The method element's local name, e.g. `Logon`. */
  readonly method: string
  /** `urn` without `urn:`, `#`, `method`: `xtk:session#Logon`. */
  readonly soapMethod: string
  /**
   * The method's first element children, in order: at most `maxParams`, and
   * after `params[0]` (the session token, always read whole) only those that
   * fit in `maxParamBytes` each: the scan stops at the first that does not.
   */
  readonly params: readonly LocatedElement[]
  /** True when `params` are all the method's parameters (its end tag was reached). */
  readonly paramsComplete: boolean
  /** The first SOAP Header child named `Cookie` (any prefix). */
  readonly headerCookie: LocatedElement | undefined
  /** The first SOAP Header child named `X-Security-Token` (any prefix). */
  readonly headerSecurityToken: LocatedElement | undefined
  /** Every SOAP Header child named `Cookie` or `X-Security-Token`, in order (duplicates included). */
  readonly headerCredentials: readonly LocatedElement[]
  readonly soapVersion: '1.1' | '1.2'
  readonly envelope: EnvelopeStart
  /** WHATWG name of the encoding text was decoded with (`utf-8` unless declared otherwise). */
  readonly encoding: string
  /** Bytes of the input examined to know all of the above: the answer is the same for any body starting with them. */
  readonly headLength: number
}

/** Thrown (one shared instance) when the buffer ends before the scanner can decide. */
export class NeedMoreInput extends Error {
  override name = 'NeedMoreInput'
}
export const NEED_MORE = new NeedMoreInput('more input is needed')
/** Thrown when a bounded read (`Scanner.within`) needs a byte past its bound. */
const OVER_BOUND = new NeedMoreInput('the bound was reached')

/**
 * Encodings in which every markup character is its ASCII byte and no
 * multi-byte sequence holds an ASCII byte (WHATWG names, as TextDecoder
 * reports them; `us-ascii` and `iso-8859-1` are `windows-1252` there).
 */
const ASCII_COMPATIBLE = new Set([
  'utf-8', 'ibm866', 'koi8-r', 'koi8-u', 'macintosh', 'x-mac-cyrillic', 'windows-874', 'euc-jp', 'euc-kr',
  'iso-8859-2', 'iso-8859-3', 'iso-8859-4', 'iso-8859-5', 'iso-8859-6', 'iso-8859-7', 'iso-8859-8', 'iso-8859-8-i',
  'iso-8859-10', 'iso-8859-13', 'iso-8859-14', 'iso-8859-15', 'iso-8859-16',
  'windows-1250', 'windows-1251', 'windows-1252', 'windows-1253', 'windows-1254', 'windows-1255', 'windows-1256',
  'windows-1257', 'windows-1258',
])

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf])
/** UTF-16 BE and LE byte order marks (the LE one also starts UTF-32 LE), and `<?xm` in EBCDIC. */
const UNSUPPORTED_SIGNATURES = [Buffer.from([0xfe, 0xff]), Buffer.from([0xff, 0xfe]), Buffer.from([0x4c, 0x6f, 0xa7, 0x94])]
const COMMENT_OPEN = Buffer.from('<!--')
const CDATA_OPEN = Buffer.from('<![CDATA[')
const DOCTYPE_OPEN = Buffer.from('<!DOCTYPE')
const ENTITY_OPEN = Buffer.from('<!ENTITY')

const XML_DECLARATION = /^<\?xml(?:\s|$)/i
const ENCODING_PSEUDO_ATTRIBUTE = /\sencoding\s*=\s*(["'])(.*?)\1/s
const CHARACTER_REFERENCE = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/
const PREDEFINED_ENTITIES = new Map([['amp', '&'], ['lt', '<'], ['gt', '>'], ['quot', '"'], ['apos', "'"]])

interface StartTag {
  readonly qname: string
  /** Offset of `<`. */
  readonly start: number
  /** Offset after `>`. */
  readonly end: number
  readonly selfClosing: boolean
  /** Namespaces declared on this element: prefix ('' for the default namespace) to URI. */
  readonly namespaces: ReadonlyMap<string, string> | undefined
}

interface TextRun { readonly kind: 'text' | 'cdata', readonly start: number, readonly end: number }

type ContentNode =
  | TextRun
  | { readonly kind: 'start', readonly tag: StartTag }
  | { readonly kind: 'end', readonly qname: string, readonly start: number }

type Scopes = readonly (ReadonlyMap<string, string> | undefined)[]

/** XML NameStartChar, bytewise: ASCII letters, `_`, `:` and any non-ASCII byte. */
function isNameStart (b: number): boolean {
  return (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || b === 0x5f || b === 0x3a || b >= 0x80
}

function isNameChar (b: number): boolean {
  return isNameStart(b) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2e
}

/** XML 1.0 `Char`: what a character reference may name. */
function isXmlChar (code: number): boolean {
  return (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff) ||
    code === 0x09 || code === 0x0a || code === 0x0d
}

function decodeReference (name: string): string | undefined {
  const match = CHARACTER_REFERENCE.exec(name)
  if (match === null) return PREDEFINED_ENTITIES.get(name)
  const [, hex, decimal] = match
  const code = hex === undefined ? Number(decimal) : parseInt(hex, 16)
  return isXmlChar(code) ? String.fromCodePoint(code) : undefined
}

/** Encoding names by declared label, as TextDecoder resolves them (a few labels in practice; bounded, since callers choose them). */
const ENCODINGS = new Map<string, string>()
const MAX_ENCODING_LABELS = 32

function encodingOf (label: string): string {
  let encoding = ENCODINGS.get(label)
  if (encoding !== undefined) return encoding
  try {
    encoding = new TextDecoder(label).encoding
  } catch (err) {
    throw new ProxyFault('unsupportedEncoding', { detail: `unknown encoding ${quoted(label)}`, cause: err })
  }
  if (ENCODINGS.size < MAX_ENCODING_LABELS) ENCODINGS.set(label, encoding)
  return encoding
}

function resolve (qname: string, scopes: Scopes): { readonly ns: string | undefined, readonly local: string } {
  const colon = qname.indexOf(':')
  const prefix = colon < 0 ? '' : qname.slice(0, colon)
  const local = qname.slice(colon + 1)
  for (let i = scopes.length - 1; i >= 0; i--) {
    const ns = scopes[i]?.get(prefix)
    if (ns !== undefined) return { ns, local }
  }
  return { ns: undefined, local }
}

/**
 * Element and attribute names repeat from call to call (`SOAP-ENV:Body`,
 * `xmlns:xsi`): an ASCII name met before is the string made then, found
 * by a hash of its bytes and checked byte for byte, instead of a decode
 * (a native call) per name. Bounded: names are the caller's to choose.
 */
const NAMES = new ByteTable<string>(512)
const MAX_INTERNED_BYTES = 64

function interned (buf: Buffer, start: number, end: number, hash: number): string | undefined {
  if (end - start > MAX_INTERNED_BYTES) return undefined
  const known = NAMES.find(buf, start, end, hash)
  if (known !== undefined) return known
  for (let i = start; i < end; i++) {
    // Other bytes are part of a multi-byte character: decoded as the document's encoding says.
    if ((buf[i] as number) >= 0x80) return undefined
  }
  const name = buf.toString('latin1', start, end)
  NAMES.keep(buf, start, end, hash, name)
  return name
}

/** Request text quoted in a fault detail, bounded: details reach clients and logs. */
function quoted (value: string): string {
  return JSON.stringify(value.slice(0, 64))
}

function localName (qname: string): string {
  return qname.slice(qname.indexOf(':') + 1)
}

class Scanner {
  readonly whole: Buffer
  /** What the scanner may read: `whole`, or its first bytes during a bounded read. */
  buf: Buffer
  bounded = false
  readonly complete: boolean
  pos = 0
  hasBom = false
  encoding = 'utf-8'
  decode: (start: number, end: number) => string

  constructor (buf: Buffer, complete: boolean) {
    this.whole = buf
    this.buf = buf
    this.complete = complete
    // No encoding name: Buffer#toString goes straight to its UTF-8 slice (about 2 % of a small call less than with 'utf8').
    this.decode = (start, end) => buf.toString(undefined, start, end)
  }

  /** The buffer ended inside `what`: stop a bounded read, wait for more, or refuse a complete body. */
  needMore (what: string): never {
    if (this.bounded) throw OVER_BOUND
    if (this.complete) this.fail('notXml', this.buf.length, `unterminated ${what} at the end of the body`)
    throw NEED_MORE
  }

  /**
   * Runs `read` reading no byte at or past `bound`; returns undefined, with
   * the scan at `bound`, if it would. The answer depends only on the bytes
   * before `bound`, so it needs more input until they are all there.
   */
  within<T> (bound: number, read: () => T): T | undefined {
    if (bound > this.whole.length) return read()
    this.buf = this.whole.subarray(0, bound)
    this.bounded = true
    let result: T | undefined
    try {
      result = read()
    } catch (err) {
      if (err !== OVER_BOUND) throw err
      this.pos = bound
    } finally {
      this.buf = this.whole
      this.bounded = false
    }
    return result
  }

  /**
   * Refuses the body because of the byte at `at`. A NUL byte there is what
   * UTF-16 or UTF-32 without a byte order mark looks like to a byte scanner.
   */
  fail (fault: ProxyFaultName, at: number, detail: string): never {
    if (this.buf[at] === 0) this.failNul(at)
    throw new ProxyFault(fault, { detail })
  }

  failNul (at: number): never {
    throw new ProxyFault('unsupportedEncoding', { detail: `NUL byte at offset ${at}: UTF-16 or UTF-32 is not supported` })
  }

  /** Refuses NUL bytes in a run the scanner skips without reading each byte. */
  checkRun (start: number, end: number): void {
    const nul = this.buf.subarray(start, end).indexOf(0)
    if (nul >= 0) this.failNul(start + nul)
  }

  byteAt (at: number, what: string): number {
    if (at >= this.buf.length) this.needMore(what)
    return this.buf[at] as number
  }

  /** Whether the bytes at `pos` are `pattern` (ASCII letters in any case if asked); needs more while they might be. */
  matches (pattern: Uint8Array, anyCase = false): boolean {
    for (let i = 0; i < pattern.length; i++) {
      const b = this.byteAt(this.pos + i, 'markup')
      const expected = pattern[i] as number
      if (b !== expected && !(anyCase && b === (expected | 0x20))) return false
    }
    return true
  }

  skipWhitespace (): boolean {
    const start = this.pos
    // Past the end (of a bounded view too), buf[pos] is undefined: not whitespace.
    while (isWhitespace(this.buf[this.pos])) this.pos++
    return this.pos > start
  }

  /** Finds `needle` from `from`; needs more input when it is not there yet. */
  find (needle: string, from: number, what: string): number {
    const at = this.buf.indexOf(needle, from, 'latin1')
    if (at < 0) this.needMore(what)
    this.checkRun(from, at)
    return at
  }

  /**
   * Finds the byte `needle` from `from`, refusing NUL bytes (and `refused`,
   * if given) before it; needs more input when it is not there yet. The
   * first bytes are read here: most runs between markup are a few bytes,
   * shorter than a native call costs.
   */
  findByte (needle: number, from: number, what: string, refused = -1): number {
    const buf = this.buf
    const stop = Math.min(buf.length, from + 64)
    let at = -1
    let refusedAt = -1
    for (let i = from; i < stop; i++) {
      const b = buf[i] as number
      if (b === needle) {
        at = i
        break
      }
      if (b === 0) this.failNul(i)
      if (b === refused && refusedAt < 0) refusedAt = i
    }
    if (at < 0) {
      if (stop === buf.length) this.needMore(what)
      at = buf.indexOf(needle, stop)
      if (at < 0) this.needMore(what)
      this.checkRun(stop, at)
      if (refused >= 0 && refusedAt < 0) {
        const found = buf.indexOf(refused, stop)
        if (found >= 0 && found < at) refusedAt = found
      }
    }
    if (refusedAt >= 0) this.fail('notXml', from, `"<" in an attribute value at offset ${from}`)
    return at
  }

  name (what: string): string {
    const start = this.pos
    const buf = this.buf
    const first = this.byteAt(start, what)
    if (!isNameStart(first)) this.fail('notXml', start, `a name was expected in ${what} at offset ${start}`)
    let hash = first
    let end = start + 1
    while (end < buf.length && isNameChar(buf[end] as number)) {
      hash = (Math.imul(hash, 31) + (buf[end] as number)) | 0
      end++
    }
    if (end - start > MAX_NAME_BYTES) this.fail('notXml', start, `a name longer than ${MAX_NAME_BYTES} bytes in ${what} at offset ${start}`)
    // The name may go on in the next chunk.
    if (end === buf.length) this.needMore(what)
    this.pos = end
    return interned(buf, start, end, hash) ?? this.decode(start, end)
  }

  /** Checks the BOM or its absence: UTF-8 is skipped, UTF-16, UTF-32 and EBCDIC are refused. */
  signature (): void {
    if (this.matches(UTF8_BOM)) {
      this.pos = UTF8_BOM.length
      this.hasBom = true
      return
    }
    for (const signature of UNSUPPORTED_SIGNATURES) {
      if (this.matches(signature)) this.fail('unsupportedEncoding', 0, 'the body is UTF-16, UTF-32 or EBCDIC: send UTF-8')
    }
  }

  /** Skips everything before the root element and returns its start tag. */
  prolog (): StartTag {
    this.signature()
    for (;;) {
      this.skipWhitespace()
      const at = this.pos
      if (this.byteAt(at, 'document') !== LT) this.fail('notXml', at, `markup was expected at offset ${at}`)
      const next = this.byteAt(at + 1, 'document')
      if (next === QUESTION) {
        const pi = this.processingInstruction()
        if (XML_DECLARATION.test(pi)) {
          // Only the document's first bytes may declare it: a second declaration could switch the encoding for some readers.
          if (at !== (this.hasBom ? UTF8_BOM.length : 0)) this.fail('notXml', at, `an XML declaration at offset ${at}: it may only start the document`)
          this.declaration(pi)
        }
      } else if (next === BANG) {
        this.bang(false)
      } else {
        return this.startTag()
      }
    }
  }

  /** Applies the declaration's `encoding`: ASCII-compatible ones only, since offsets are bytes and markup is ASCII. */
  declaration (declaration: string): void {
    const label = ENCODING_PSEUDO_ATTRIBUTE.exec(declaration)?.[2]
    if (label === undefined) return
    const encoding = encodingOf(label)
    if (!ASCII_COMPATIBLE.has(encoding)) throw new ProxyFault('unsupportedEncoding', { detail: `encoding ${quoted(label)} is not ASCII-compatible` })
    if (this.hasBom && encoding !== 'utf-8') throw new ProxyFault('unsupportedEncoding', { detail: `a UTF-8 byte order mark contradicts encoding ${quoted(label)}` })
    this.encoding = encoding
    if (encoding !== 'utf-8') {
      const decoder = new TextDecoder(encoding)
      this.decode = (start, end) => decoder.decode(this.buf.subarray(start, end))
    }
  }

  /** At `<?`: skips to `?>` and returns the instruction's text (latin1, without `?>`). */
  processingInstruction (): string {
    const start = this.pos
    const end = this.find('?>', start + 2, 'processing instruction')
    this.pos = end + 2
    return this.buf.toString('latin1', start, end)
  }

  /**
   * At `<!`: skips a comment, returns a CDATA section (in content only),
   * refuses DOCTYPE and ENTITY declarations (entity expansion attacks), and
   * anything else.
   */
  bang (inContent: boolean): ContentNode | undefined {
    const at = this.pos
    if (this.matches(COMMENT_OPEN)) {
      const end = this.find('-->', at + COMMENT_OPEN.length, 'comment')
      if (this.buf.indexOf('--', at + COMMENT_OPEN.length, 'latin1') !== end) this.fail('notXml', at, `"--" inside the comment at offset ${at}`)
      this.pos = end + 3
      return undefined
    }
    if (inContent && this.matches(CDATA_OPEN)) {
      const start = at + CDATA_OPEN.length
      const end = this.find(']]>', start, 'CDATA section')
      this.pos = end + 3
      return { kind: 'cdata', start, end }
    }
    if (this.matches(DOCTYPE_OPEN, true) || this.matches(ENTITY_OPEN, true)) {
      throw new ProxyFault('doctype', { detail: `a DOCTYPE or ENTITY declaration at offset ${at}` })
    }
    this.fail('notXml', at + 2, `unexpected markup at offset ${at}`)
  }

  /** At `<` of a start tag: reads its name and attributes, keeping namespace declarations. */
  startTag (): StartTag {
    const start = this.pos
    this.pos++
    const qname = this.name('start tag')
    let namespaces: Map<string, string> | undefined
    for (;;) {
      const spaced = this.skipWhitespace()
      const b = this.byteAt(this.pos, 'start tag')
      if (b === GT) {
        this.pos++
        return { qname, start, end: this.pos, selfClosing: false, namespaces }
      }
      if (b === SLASH) {
        if (this.byteAt(this.pos + 1, 'start tag') !== GT) this.fail('notXml', this.pos + 1, `malformed start tag at offset ${start}`)
        this.pos += 2
        return { qname, start, end: this.pos, selfClosing: true, namespaces }
      }
      if (!spaced) this.fail('notXml', this.pos, `whitespace was expected before an attribute at offset ${this.pos}`)
      const attribute = this.name('start tag')
      this.skipWhitespace()
      if (this.byteAt(this.pos, 'start tag') !== EQUALS) this.fail('notXml', this.pos, `"=" was expected at offset ${this.pos}`)
      this.pos++
      this.skipWhitespace()
      const quote = this.byteAt(this.pos, 'start tag')
      if (quote !== DOUBLE_QUOTE && quote !== SINGLE_QUOTE) this.fail('notXml', this.pos, `a quoted value was expected at offset ${this.pos}`)
      const valueStart = this.pos + 1
      const valueEnd = this.findByte(quote, valueStart, 'attribute value', LT)
      this.pos = valueEnd + 1
      if (attribute === 'xmlns' || attribute.startsWith('xmlns:')) {
        namespaces ??= new Map()
        const prefix = attribute.slice(6)
        if (namespaces.has(prefix)) this.fail('notXml', valueStart, `namespace prefix ${quoted(prefix)} declared twice at offset ${start}`)
        if (valueEnd - valueStart > MAX_NAME_BYTES) this.fail('notXml', valueStart, `a namespace name longer than ${MAX_NAME_BYTES} bytes at offset ${valueStart}`)
        namespaces.set(prefix, this.unescape(this.decode(valueStart, valueEnd), valueStart))
      }
    }
  }

  /** At `</`. */
  endTag (): ContentNode {
    const start = this.pos
    this.pos += 2
    const qname = this.name('end tag')
    this.skipWhitespace()
    if (this.byteAt(this.pos, 'end tag') !== GT) this.fail('notXml', this.pos, `malformed end tag at offset ${start}`)
    this.pos++
    return { kind: 'end', qname, start }
  }

  /** The next text run, CDATA section, start tag or end tag of element content; comments and PIs are skipped. */
  nextNode (): ContentNode {
    for (;;) {
      const start = this.pos
      const lt = this.findByte(LT, start, 'element')
      if (lt > start) {
        this.pos = lt
        return { kind: 'text', start, end: lt }
      }
      const next = this.byteAt(lt + 1, 'markup')
      if (next === SLASH) return this.endTag()
      if (next === QUESTION) {
        if (XML_DECLARATION.test(this.processingInstruction())) this.fail('notXml', lt, `an XML declaration at offset ${lt}: it may only start the document`)
      } else if (next === BANG) {
        const cdata = this.bang(true)
        if (cdata !== undefined) return cdata
      } else {
        return { kind: 'start', tag: this.startTag() }
      }
    }
  }

  /** The next child element of `parent`, or undefined once `parent`'s end tag is consumed. Text between is ignored. */
  nextChild (parent: string): StartTag | undefined {
    for (;;) {
      const node = this.nextNode()
      if (node.kind === 'start') return node.tag
      if (node.kind === 'end') {
        if (node.qname !== parent) this.fail('notXml', node.start, `end tag ${quoted(node.qname)} at offset ${node.start} does not close ${quoted(parent)}`)
        return undefined
      }
    }
  }

  /** Reads the element `tag` opens, through its end tag (nesting balanced). */
  element (tag: StartTag): LocatedElement {
    if (tag.selfClosing) return { qname: tag.qname, content: undefined, text: '', outer: { start: tag.start, end: tag.end } }
    const open = [tag.qname]
    const runs: TextRun[] = []
    let hasChildren = false
    for (;;) {
      const node = this.nextNode()
      if (node.kind === 'start') {
        hasChildren = true
        if (!node.tag.selfClosing) open.push(node.tag.qname)
      } else if (node.kind === 'end') {
        const expected = open.pop() as string
        if (node.qname !== expected) this.fail('notXml', node.start, `end tag ${quoted(node.qname)} at offset ${node.start} does not close ${quoted(expected)}`)
        if (open.length === 0) {
          return {
            qname: tag.qname,
            content: { start: tag.end, end: node.start },
            text: hasChildren ? '' : this.text(runs),
            outer: { start: tag.start, end: this.pos },
          }
        }
      } else if (open.length === 1) {
        runs.push(node)
      }
    }
  }

  text (runs: readonly TextRun[]): string {
    let text = ''
    for (const { kind, start, end } of runs) {
      // XML 1.0 section 2.11: line ends are normalised to LF, CDATA included.
      const decoded = this.decode(start, end)
      const raw = decoded.includes('\r') ? decoded.replace(/\r\n?/g, '\n') : decoded
      text += kind === 'cdata' ? raw : this.unescape(raw, start)
    }
    return text
  }

  /** Decodes the five predefined entities and character references; any other `&` is not XML (there is no DTD). */
  unescape (raw: string, at: number): string {
    let out = ''
    let from = 0
    for (let amp = raw.indexOf('&'); amp >= 0; amp = raw.indexOf('&', from)) {
      const semicolon = raw.indexOf(';', amp)
      const char = semicolon < 0 ? undefined : decodeReference(raw.slice(amp + 1, semicolon))
      if (char === undefined) this.fail('notXml', at, `invalid entity or character reference after offset ${at}`)
      out += raw.slice(from, amp) + char
      from = semicolon + 1
    }
    return out + raw.slice(from)
  }
}

/**
 * Scans `buf` for the SOAP method and the credential elements.
 * Throws `NEED_MORE` when `buf` ends before the answer is known (never when
 * `complete`), ProxyFault for input the proxy refuses.
 */
export function scanSoap (buf: Buffer, complete: boolean, { maxParams: defaultParams, maxParamBytes, paramsFor }: ScanLimits): SoapLocation {
  const s = new Scanner(buf, complete)
  const root = s.prolog()
  const envelope = resolve(root.qname, [root.namespaces])
  const envelopeNs = envelope.ns
  if (envelope.local !== 'Envelope' || (envelopeNs !== SOAP11_ENVELOPE_NS && envelopeNs !== SOAP12_ENVELOPE_NS)) {
    throw new ProxyFault('notXml', { detail: 'the root element is not a SOAP 1.1 or SOAP 1.2 Envelope' })
  }
  if (root.selfClosing) throw new ProxyFault('noMethod', { detail: 'the SOAP Envelope has no Body' })
  const isSoapElement = (tag: StartTag | undefined, local: string): boolean => {
    if (tag === undefined) return false
    const name = resolve(tag.qname, [root.namespaces, tag.namespaces])
    return name.local === local && name.ns === envelopeNs
  }

  let child = s.nextChild(root.qname)
  const headerCredentials: LocatedElement[] = []
  if (isSoapElement(child, 'Header')) {
    const header = child as StartTag
    if (!header.selfClosing) {
      for (let entry = s.nextChild(header.qname); entry !== undefined; entry = s.nextChild(header.qname)) {
        const located = s.element(entry)
        const local = localName(entry.qname)
        if (local === 'Cookie' || local === 'X-Security-Token') headerCredentials.push(located)
      }
    }
    child = s.nextChild(root.qname)
    if (isSoapElement(child, 'Header')) throw new ProxyFault('badStructure', { detail: 'a second SOAP Header' })
  }
  if (!isSoapElement(child, 'Body')) throw new ProxyFault('noMethod', { detail: 'the SOAP Envelope has no Body' })
  const body = child as StartTag
  const method = body.selfClosing ? undefined : s.nextChild(body.qname)
  if (method === undefined) throw new ProxyFault('noMethod', { detail: 'the SOAP Body is empty' })
  const name = resolve(method.qname, [root.namespaces, body.namespaces, method.namespaces])
  const urn = name.ns
  if (urn === undefined || !urn.startsWith('urn:')) {
    throw new ProxyFault('noMethod', { detail: `the method element ${quoted(method.qname)} is not in a urn: namespace` })
  }

  const soapMethod = `${urn.slice(4)}#${name.local}`
  const maxParams = paramsFor === undefined ? defaultParams : paramsFor(soapMethod)
  const params: LocatedElement[] = []
  let paramsComplete = method.selfClosing
  /** The next parameter, or null at the method end tag. */
  const nextParam = (): LocatedElement | null => {
    const param = s.nextChild(method.qname)
    return param === undefined ? null : s.element(param)
  }
  while (!method.selfClosing && params.length < maxParams) {
    // The first parameter is read whatever its size: it is the one emptied.
    const param = params.length === 0 ? nextParam() : s.within(s.pos + maxParamBytes, nextParam)
    if (param === undefined) break
    if (param === null) {
      paramsComplete = true
      break
    }
    params.push(param)
  }

  return {
    urn,
    method: name.local,
    soapMethod,
    params,
    paramsComplete,
    headerCookie: headerCredentials.find(e => localName(e.qname) === 'Cookie'),
    headerSecurityToken: headerCredentials.find(e => localName(e.qname) === 'X-Security-Token'),
    headerCredentials,
    soapVersion: envelopeNs === SOAP11_ENVELOPE_NS ? '1.1' : '1.2',
    envelope: { qname: root.qname, namespaces: root.namespaces, namespace: envelopeNs, contentStart: root.end },
    encoding: s.encoding,
    headLength: s.pos,
  }
}
