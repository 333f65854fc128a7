/**
 * A namespace-aware element tree for whole, bounded documents: the
 * simulators' request parsing and the proxy's reading of Campaign answers.
 *
 * Whole (bounded) documents are parsed with fast-xml-parser, then
 * resolve prefixes so that `<m:Logon xmlns:m="urn:xtk:session">`,
 * `<urn:Logon>` and `<Logon xmlns="urn:xtk:session">` all read the same.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser'

export interface XmlElement {
  /** The name as written, e.g. `m:Logon`. */
  readonly qname: string
  /** The local name, e.g. `Logon`. */
  readonly local: string
  /** The resolved namespace URI, or '' when none is in scope. */
  readonly ns: string
  readonly attrs: Readonly<Record<string, string>>
  readonly children: readonly XmlElement[]
  /** Concatenated text content of this element's own text nodes (entities decoded, CDATA included). */
  readonly text: string
}

export class XmlInputError extends Error {
  override name = 'XmlInputError'
}

const ATTR_PREFIX = '@_'
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: ATTR_PREFIX,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: true,
  htmlEntities: false,
})

type OrderedNode = Record<string, unknown>

/** The encoding declared in the XML declaration, lower-cased, or undefined. */
export function declaredEncoding (head: string): string | undefined {
  const match = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([^"']+)["']/.exec(head)
  return match?.[1]?.toLowerCase()
}

/**
 * Decodes a request body to text: a UTF-8 BOM is dropped, `ISO-8859-1` /
 * `latin1` declarations are honoured, everything else is read as UTF-8.
 */
export function decodeXmlBody (body: Buffer): string {
  let bytes = body
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3)
  const encoding = declaredEncoding(bytes.subarray(0, 200).toString('latin1'))
  if (encoding === 'iso-8859-1' || encoding === 'latin1' || encoding === 'iso_8859-1') return bytes.toString('latin1')
  if (encoding !== undefined && encoding !== 'utf-8' && encoding !== 'utf8' && encoding !== 'us-ascii') {
    throw new XmlInputError(`unsupported encoding ${encoding}`)
  }
  return bytes.toString('utf8')
}

/** Parses a document and returns its root element. DOCTYPE and ENTITY declarations are refused. */
export function parseXml (text: string): XmlElement {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new XmlInputError('DOCTYPE and ENTITY declarations are not accepted')
  const validation = XMLValidator.validate(text)
  if (validation !== true) throw new XmlInputError(`malformed XML: ${validation.err.msg} (line ${validation.err.line})`)
  let nodes: unknown
  try {
    nodes = parser.parse(text, true)
  } catch (err) {
    throw new XmlInputError(`malformed XML: ${(err as Error).message}`, { cause: err })
  }
  const roots = (nodes as OrderedNode[]).filter(n => elementName(n) !== undefined)
  if (roots.length !== 1 || roots[0] === undefined) throw new XmlInputError('expected exactly one root element')
  return buildElement(roots[0], new Map())
}

function elementName (node: OrderedNode): string | undefined {
  return Object.keys(node).find(key => key !== ':@' && key !== '#text')
}

function buildElement (node: OrderedNode, scope: ReadonlyMap<string, string>): XmlElement {
  const qname = elementName(node) as string
  const rawAttrs = (node[':@'] ?? {}) as Record<string, string>
  const attrs: Record<string, string> = {}
  let localScope: Map<string, string> | undefined
  for (const [key, value] of Object.entries(rawAttrs)) {
    const name = key.slice(ATTR_PREFIX.length)
    attrs[name] = value
    if (name === 'xmlns' || name.startsWith('xmlns:')) {
      localScope ??= new Map(scope)
      localScope.set(name === 'xmlns' ? '' : name.slice(6), value)
    }
  }
  const inScope = localScope ?? scope
  const colon = qname.indexOf(':')
  const prefix = colon === -1 ? '' : qname.slice(0, colon)
  const children: XmlElement[] = []
  let text = ''
  for (const child of node[qname] as OrderedNode[]) {
    if ('#text' in child) text += String(child['#text'])
    else if (elementName(child) !== undefined) children.push(buildElement(child, inScope))
  }
  return { qname, local: colon === -1 ? qname : qname.slice(colon + 1), ns: inScope.get(prefix) ?? '', attrs, children, text }
}

/** First child element with this local name, whatever its prefix. */
export function childNamed (element: XmlElement, local: string): XmlElement | undefined {
  return element.children.find(c => c.local === local)
}
