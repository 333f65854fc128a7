/**
 * The whole SOAP envelope checked the way a strict parser reads it
 * (docs/security.md#soap-structure), so that what the proxy rewrote is all
 * Campaign can act on: one optional Header, then one Body holding exactly
 * one method element, whose first parameter is text (the session token)
 * and whose other parameters are not session tokens; nothing after the
 * Body but whitespace and comments. On the way it refuses what a strict
 * XML parser refuses and the locating scan (locate-scanner.ts) does not
 * read: end tags that do not match, unbound namespace prefixes, duplicate
 * attributes, `--` in a comment, an XML declaration that is not the
 * first thing in the document, DOCTYPE or any other `<!` declaration.
 *
 * It reads forward once, chunk by chunk (a streamed body is checked as it
 * is sent), holding at most one incomplete tag; comment, CDATA and
 * processing instruction contents are skipped without being kept.
 */
import { BANG, ByteTable, DASH, DOUBLE_QUOTE, GT, hashOf, isWhitespace, LT, QUESTION, SINGLE_QUOTE, SLASH } from './bytes.js'
import { ProxyFault, type ProxyFaultName } from './faults.js'
import { MAX_NAME_BYTES, type EnvelopeStart } from './locate-scanner.js'

/** Longest start tag (name and attributes) accepted: Campaign's are under a kilobyte, a DOM parameter's attributes a few. */
export const MAX_TAG_BYTES = 256 * 1024

type Namespaces = ReadonlyMap<string, string> | undefined

interface Open {
  readonly qname: string
  readonly namespaces: Namespaces
  /** Element children seen so far. */
  children: number
  /** For Envelope children: 'header' or 'body'; for the Body's child: 'method'; for the method's first child: 'token'. */
  readonly role: 'envelope' | 'header' | 'body' | 'method' | 'token' | 'other'
}

type State = 'text' | 'comment' | 'cdata' | 'pi'

const SESSION_TOKEN_NAMES = new Set(['sessiontoken', '__sessiontoken'])
const ATTRIBUTE = /\s+([^\s=/>]+)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/y
const NAME_END = /[\s/>]/

/** The next `<` from `pos`, or -1: the text between tags is usually a few bytes, searched here without a native call. */
function nextLt (buf: Buffer, pos: number): number {
  const stop = Math.min(buf.length, pos + 64)
  for (let i = pos; i < stop; i++) {
    if (buf[i] === LT) return i
  }
  return stop === buf.length ? -1 : buf.indexOf(LT, stop)
}

function refuse (fault: ProxyFaultName, detail: string): never {
  throw new ProxyFault(fault, { detail })
}

function structure (detail: string): never {
  refuse('badStructure', detail)
}

function malformed (detail: string): never {
  refuse('notXml', detail)
}

function localName (qname: string): string {
  return qname.slice(qname.indexOf(':') + 1)
}

/** What a start tag says by itself: its name, the namespaces it declares, the prefixes of its attributes. */
interface ParsedTag {
  readonly qname: string
  readonly prefix: string
  readonly selfClosing: boolean
  readonly namespaces: Namespaces
  /** Prefixes of the prefixed attributes other than namespace declarations (each must be bound where the tag is). */
  readonly prefixedAttributes: readonly string[]
}

const NO_PREFIXES: readonly string[] = []

/** Reads a start tag's text (between `<` and `>`); refuses a missing or long name, repeated or malformed attributes. */
function parseTag (text: string): ParsedTag {
  const selfClosing = text.charCodeAt(text.length - 1) === SLASH
  const nameEnd = text.search(NAME_END)
  const qname = nameEnd < 0 ? text : text.slice(0, nameEnd)
  if (qname.length === 0 || qname.length > MAX_NAME_BYTES) malformed('a start tag without a name, or with a name too long')
  const prefix = qname.includes(':') ? qname.slice(0, qname.indexOf(':')) : ''
  if (nameEnd < 0) return { qname, prefix, selfClosing, namespaces: undefined, prefixedAttributes: NO_PREFIXES }
  const end = selfClosing ? text.length - 1 : text.length
  let namespaces: Map<string, string> | undefined
  let prefixed: string[] | undefined
  // A tag has a few attributes: an array is cheaper than a Set.
  const seen: string[] = []
  ATTRIBUTE.lastIndex = nameEnd
  let at = nameEnd
  for (let m = ATTRIBUTE.exec(text); m !== null && ATTRIBUTE.lastIndex <= end; m = ATTRIBUTE.exec(text)) {
    const name = m[1] as string
    if (seen.includes(name)) malformed(`the attribute ${JSON.stringify(name.slice(0, 64))} is repeated`)
    seen.push(name)
    if (name === 'xmlns' || name.startsWith('xmlns:')) {
      namespaces ??= new Map()
      namespaces.set(name.slice(6), (m[2] ?? m[3]) as string)
    } else if (name.includes(':')) {
      (prefixed ??= []).push(name.slice(0, name.indexOf(':')))
    }
    at = ATTRIBUTE.lastIndex
  }
  for (let i = at; i < end; i++) {
    if (!isWhitespace(text.charCodeAt(i))) malformed('a malformed attribute in a start tag')
  }
  return { qname, prefix, selfClosing, namespaces, prefixedAttributes: prefixed ?? NO_PREFIXES }
}

/**
 * Tags repeat from call to call (`SOAP-ENV:Body`, `sessiontoken
 * xsi:type='xsd:string'`): a start tag met before is its parse from then
 * (what the tag says by itself; where it stands is checked every time),
 * an end tag the name read then, found by a hash of the tag's bytes and
 * used only when the bytes are the same. Bounded: tags are the caller's to
 * choose (at most MAX_TAGS of each, of at most MAX_KEPT_TAG_BYTES).
 */
const MAX_TAGS = 1024
const START_TAGS = new ByteTable<ParsedTag>(MAX_TAGS)
const END_TAGS = new ByteTable<string>(MAX_TAGS)
const MAX_KEPT_TAG_BYTES = 512

/** The start tag whose text (between `<` and `>`) is `buf[start, end)`. */
function startTagAt (buf: Buffer, start: number, end: number): ParsedTag {
  if (end - start > MAX_KEPT_TAG_BYTES) return parseTag(buf.toString('latin1', start, end))
  const hash = hashOf(buf, start, end)
  const known = START_TAGS.find(buf, start, end, hash)
  if (known !== undefined) return known
  const tag = parseTag(buf.toString('latin1', start, end))
  START_TAGS.keep(buf, start, end, hash, tag)
  return tag
}

/** The name an end tag whose text (between `</` and `>`) is `buf[start, end)` closes. */
function endTagAt (buf: Buffer, start: number, end: number): string {
  if (end - start > MAX_KEPT_TAG_BYTES) return buf.toString('latin1', start, end).trimEnd()
  const hash = hashOf(buf, start, end)
  const known = END_TAGS.find(buf, start, end, hash)
  if (known !== undefined) return known
  const qname = buf.toString('latin1', start, end).trimEnd()
  END_TAGS.keep(buf, start, end, hash, qname)
  return qname
}

export class SoapStructureCheck {
  readonly #envelopeNs: string
  readonly #stack: Open[]
  #state: State = 'text'
  #sawHeader = false
  /**
   * Inside a parameter (or a Header entry), elements are only counted:
   * their names, as hashes, are matched with their end tags, and the
   * markup rules above apply, but their attributes are not read. What they
   * hold is the parameter's value, which the proxy does not act on; the
   * structure it must agree on with Campaign ends at the parameters.
   */
  readonly #deep: number[] = []
  #sawBody = false
  /** Bytes of an incomplete construct carried to the next chunk. */
  #carry: Buffer | undefined
  #ended = false

  constructor (envelope: EnvelopeStart) {
    this.#envelopeNs = envelope.namespace
    this.#stack = [{ qname: envelope.qname, namespaces: envelope.namespaces, children: 0, role: 'envelope' }]
  }

  /** Checks the next bytes of the body; throws ProxyFault at the first that breaks a rule. */
  push (chunk: Buffer): void {
    let buf = chunk
    if (this.#carry !== undefined) {
      buf = Buffer.concat([this.#carry, chunk])
      this.#carry = undefined
    }
    let pos = 0
    const length = buf.length
    while (pos < length) {
      if (this.#state !== 'text') {
        const after = this.#skip(buf, pos)
        if (after < 0) return
        pos = after
        continue
      }
      const lt = nextLt(buf, pos)
      const textEnd = lt < 0 ? length : lt
      if (textEnd > pos && this.#stack.length < 3) this.#whitespaceOnly(buf, pos, textEnd)
      if (lt < 0) return
      pos = lt
      const next = lt + 1 < length ? buf[lt + 1] : undefined
      if (next === undefined) return this.#keep(buf, lt)
      if (next === BANG) {
        if (length - lt < 4) return this.#keep(buf, lt)
        if (buf[lt + 2] === DASH && buf[lt + 3] === DASH) {
          this.#state = 'comment'
          pos = lt + 4
        } else if (length - lt < 9) {
          return this.#keep(buf, lt)
        } else if (buf.toString('latin1', lt + 2, lt + 9) === '[CDATA[') {
          if (this.#stack.length < 3) structure('character data outside the method element')
          this.#state = 'cdata'
          pos = lt + 9
        } else {
          refuse('doctype', 'a DOCTYPE or other declaration inside the document')
        }
      } else if (next === QUESTION) {
        if (length - lt < 6) return this.#keep(buf, lt)
        const target = buf.toString('latin1', lt + 2, lt + 6)
        if (/^xml[\s?]/i.test(target)) malformed('an XML declaration that is not at the start of the document')
        this.#state = 'pi'
        pos = lt + 2
      } else {
        const end = this.#tagEnd(buf, lt)
        if (end < 0) return this.#keep(buf, lt)
        if (this.#deep.length > 0 || (next !== SLASH && (this.#stack[this.#stack.length - 1] as Open | undefined)?.role === 'other')) this.#deepTag(buf, lt, end, next === SLASH)
        else if (next === SLASH) this.#endTag(endTagAt(buf, lt + 2, end))
        else this.#startTag(startTagAt(buf, lt + 1, end))
        pos = end + 1
      }
    }
  }

  /** The body ended: everything opened must be closed. */
  end (): void {
    if (this.#ended) return
    this.#ended = true
    if (this.#carry !== undefined || this.#state !== 'text') malformed('the body ends inside markup')
    if (this.#deep.length > 0) malformed('the body ends inside a parameter')
    if (this.#stack.length > 0) malformed(`the body ends before the end tag of ${JSON.stringify((this.#stack[this.#stack.length - 1] as Open).qname.slice(0, 64))}`)
  }

  #keep (buf: Buffer, from: number): void {
    if (buf.length - from > MAX_TAG_BYTES) malformed(`a tag longer than ${MAX_TAG_BYTES} bytes`)
    this.#carry = Buffer.from(buf.subarray(from))
  }

  /** Inside a comment, CDATA section or processing instruction: the offset after its end, or -1 (the rest kept for the next chunk). */
  #skip (buf: Buffer, pos: number): number {
    const state = this.#state
    const terminator = state === 'comment' ? '--' : state === 'cdata' ? ']]>' : '?>'
    const at = buf.indexOf(terminator, pos, 'latin1')
    if (at < 0) {
      // The terminator may start in this chunk's last bytes.
      this.#carry = Buffer.from(buf.subarray(Math.max(pos, buf.length - terminator.length + 1)))
      return -1
    }
    if (state === 'comment') {
      if (at + 2 >= buf.length) {
        this.#carry = Buffer.from(buf.subarray(at))
        return -1
      }
      if (buf[at + 2] !== GT) malformed('"--" inside a comment')
    }
    this.#state = 'text'
    // A comment's `--` is followed by the `>` checked above.
    return at + terminator.length + (state === 'comment' ? 1 : 0)
  }

  #whitespaceOnly (buf: Buffer, start: number, end: number): void {
    for (let i = start; i < end; i++) {
      if (!isWhitespace(buf[i] as number)) structure(this.#stack.length === 0 ? 'text after the Envelope' : 'text outside the method element')
    }
  }

  /** The offset of the `>` closing the tag at `lt` (quotes respected), or -1 when the buffer ends first. */
  #tagEnd (buf: Buffer, lt: number): number {
    for (let i = lt + 1; i < buf.length; i++) {
      const b = buf[i]
      if (b === GT) return i
      if (b === LT) malformed('"<" inside a tag')
      if (b === DOUBLE_QUOTE || b === SINGLE_QUOTE) {
        // Attribute values are short: a loop is cheaper than a native indexOf call per value.
        i++
        while (i < buf.length && buf[i] !== b) i++
        if (i === buf.length) return -1
      }
    }
    return -1
  }

  /** A tag inside a parameter: `lt` is its `<`, `end` its `>`. */
  #deepTag (buf: Buffer, lt: number, end: number, isEnd: boolean): void {
    const nameStart = isEnd ? lt + 2 : lt + 1
    let hash = 0x811c9dc5
    let i = nameStart
    for (; i < end; i++) {
      const b = buf[i] as number
      if (isWhitespace(b) || b === SLASH) break
      hash = Math.imul(hash ^ b, 0x01000193)
    }
    if (i === nameStart) malformed('a tag without a name')
    if (isEnd) {
      if (this.#deep.pop() !== hash) malformed('an end tag that does not close the element it ends')
      for (; i < end; i++) if (!isWhitespace(buf[i] as number)) malformed('a malformed end tag')
    } else if (buf[end - 1] !== SLASH) {
      this.#deep.push(hash)
    }
  }

  #endTag (qname: string): void {
    const open = this.#stack.pop()
    if (open === undefined) structure('an end tag after the Envelope')
    if (open.qname !== qname) malformed(`end tag ${JSON.stringify(qname.slice(0, 64))} does not close ${JSON.stringify(open.qname.slice(0, 64))}`)
  }

  #startTag (tag: ParsedTag): void {
    const namespaces = tag.namespaces
    for (const prefix of tag.prefixedAttributes) {
      if (prefix !== 'xml' && this.#resolve(prefix, namespaces) === undefined) malformed(`the namespace prefix ${JSON.stringify(prefix.slice(0, 64))} is not declared`)
    }
    const { qname, prefix } = tag
    if (prefix !== '' && this.#resolve(prefix, namespaces) === undefined) malformed(`the namespace prefix ${JSON.stringify(prefix.slice(0, 64))} is not declared`)
    const parent = this.#stack[this.#stack.length - 1]
    if (parent === undefined) structure('a second root element after the Envelope')
    parent.children++
    const role = this.#roleOf(parent, qname, prefix, namespaces)
    if (!tag.selfClosing) this.#stack.push({ qname, namespaces, children: 0, role })
  }

  /** What the element is, refusing what may not be where it is. */
  #roleOf (parent: Open, qname: string, prefix: string, namespaces: Namespaces): Open['role'] {
    const inEnvelopeNs = (): boolean => this.#resolve(prefix, namespaces) === this.#envelopeNs
    const local = localName(qname)
    switch (parent.role) {
      case 'envelope':
        if (inEnvelopeNs() && local === 'Header' && parent.children === 1) {
          this.#sawHeader = true
          return 'header'
        }
        if (inEnvelopeNs() && local === 'Body' && !this.#sawBody && (parent.children === 1 || (parent.children === 2 && this.#sawHeader))) {
          this.#sawBody = true
          return 'body'
        }
        return structure(this.#sawBody ? `an element after the SOAP Body (${JSON.stringify(qname.slice(0, 64))})` : `${JSON.stringify(qname.slice(0, 64))} where the SOAP Header or Body was expected`)
      case 'header':
        if (inEnvelopeNs()) structure(`a SOAP ${JSON.stringify(local.slice(0, 64))} inside the SOAP Header`)
        return 'other'
      case 'body':
        if (parent.children > 1) structure('a second method element in the SOAP Body')
        return 'method'
      case 'method':
        if (parent.children === 1) return 'token'
        if (SESSION_TOKEN_NAMES.has(local.toLowerCase())) structure('a second session token parameter')
        return 'other'
      default:
        // 'token' (the children of an 'other' element are counted in #deepTag, never given a role).
        return structure('the first parameter (the session token) holds elements')
    }
  }

  #resolve (prefix: string, own: Namespaces): string | undefined {
    if (prefix === 'xml') return 'http://www.w3.org/XML/1998/namespace'
    const ownNs = own?.get(prefix)
    if (ownNs !== undefined) return ownNs
    for (let i = this.#stack.length - 1; i >= 0; i--) {
      const ns = (this.#stack[i] as Open).namespaces?.get(prefix)
      if (ns !== undefined) return ns
    }
    return undefined
  }
}

/** Checks a whole body (one buffer, or the chunks it came in, in order) from its Envelope's content on. */
export function checkSoapStructure (body: Buffer | readonly Buffer[], envelope: EnvelopeStart): void {
  const check = new SoapStructureCheck(envelope)
  if (Buffer.isBuffer(body)) {
    check.push(body.subarray(envelope.contentStart))
  } else {
    check.push((body[0] as Buffer).subarray(envelope.contentStart))
    for (let i = 1; i < body.length; i++) check.push(body[i] as Buffer)
  }
  check.end()
}
