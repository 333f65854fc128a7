/**
 * Finds, in the head of a SOAP request body, the elements the proxy empties
 * (the method's first parameter, the SOAP Header `Cookie` and
 * `X-Security-Token`), as byte ranges, and empties them.
 *
 * Why a hand-written scanner rather than an XML parser: the rewriting rules
 * (docs/architecture.md#rewriting-rules) want every other byte forwarded identically (prefixes, whitespace, comments,
 * CDATA, attribute order, encoding), which rules out parse-and-serialise, and
 * the parsers at hand (fast-xml-parser) do not report byte offsets. A
 * forward-only scan also stops as soon as the method's first parameters are
 * read (each after the token within a byte budget), usually within the first
 * kilobytes, so a streamed body of any size costs a bounded head, and it
 * refuses DOCTYPE/ENTITY declarations before anything could expand them.
 */
import { NeedMoreInput, scanLimitsOf, scanSoap, type ByteRange, type LocateOptions, type SoapLocation } from './locate-scanner.js'

export { DEFAULT_MAX_PARAM_BYTES, DEFAULT_MAX_PARAMS, SOAP11_ENVELOPE_NS, SOAP12_ENVELOPE_NS } from './locate-scanner.js'
export type { ByteRange, LocatedElement, LocateOptions, SoapLocation } from './locate-scanner.js'
export { DEFAULT_HEAD_LIMIT, readSoapHead, type SoapHead } from './head-reader.js'

export type LocateResult =
  | { readonly kind: 'found', readonly location: SoapLocation }
  | { readonly kind: 'need-more' }

const NEED_MORE_RESULT: LocateResult = { kind: 'need-more' }

/**
 * Locates the SOAP method and the credential elements in `head`, the first
 * bytes of a request body; `isComplete` says it is the whole body.
 *
 * Returns `need-more` while the answer depends on bytes not yet received
 * (never when `isComplete`); once found, more bytes never change it.
 * Throws ProxyFault `doctype`, `notXml`, `noMethod` or `unsupportedEncoding`.
 */
export function locateSoap (head: Buffer, isComplete: boolean, options?: LocateOptions): LocateResult {
  const limits = scanLimitsOf(options)
  try {
    return { kind: 'found', location: scanSoap(head, isComplete, limits) }
  } catch (err) {
    if (err instanceof NeedMoreInput) return NEED_MORE_RESULT
    throw err
  }
}

/**
 * A copy of `buffer` without the bytes of `ranges` (non-overlapping, any
 * order); every other byte is kept, in order.
 */
export function emptyRanges (buffer: Buffer, ranges: readonly ByteRange[]): Buffer {
  const sorted = [...ranges].sort((a, b) => a.start - b.start)
  const parts: Buffer[] = []
  let from = 0
  for (const { start, end } of sorted) {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < from || end < start || end > buffer.length) {
      throw new RangeError(`range [${start}, ${end}) is outside the buffer or overlaps another`)
    }
    parts.push(buffer.subarray(from, start))
    from = end
  }
  parts.push(buffer.subarray(from))
  return Buffer.concat(parts)
}
