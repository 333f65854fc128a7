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
export type { ByteRange, EnvelopeStart, LocatedElement, LocateOptions, SoapLocation } from './locate-scanner.js'
export { checkSoapStructure, SoapStructureCheck } from './structure.js'
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
 * `buffer` without the bytes of `ranges`, rewritten in place: the bytes
 * before each range move towards the end, and the result is a view of the
 * end of `buffer`. The cost is the bytes before the last range (the
 * credentials sit near the start), not the body's size. `buffer` must
 * not be used afterwards.
 */
export function emptyRangesInPlace (buffer: Buffer, ranges: readonly ByteRange[]): Buffer {
  const sorted = checkedRanges(buffer, ranges)
  let shift = 0
  for (let i = sorted.length - 1; i >= 0; i--) {
    const { start, end } = sorted[i] as ByteRange
    shift += end - start
    const from = i === 0 ? 0 : (sorted[i - 1] as ByteRange).end
    buffer.copyWithin(from + shift, from, start)
  }
  return buffer.subarray(shift)
}

/**
 * A copy of `buffer` without the bytes of `ranges` (non-overlapping, any
 * order); every other byte is kept, in order.
 */
export function emptyRanges (buffer: Buffer, ranges: readonly ByteRange[]): Buffer {
  const parts: Buffer[] = []
  let from = 0
  for (const { start, end } of checkedRanges(buffer, ranges)) {
    parts.push(buffer.subarray(from, start))
    from = end
  }
  parts.push(buffer.subarray(from))
  return Buffer.concat(parts)
}

/** `ranges` in order, each inside `buffer` and apart from the others (a wrong one is a programming error). */
function checkedRanges (buffer: Buffer, ranges: readonly ByteRange[]): ByteRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start || a.end - b.end)
  let from = 0
  for (const { start, end } of sorted) {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < from || end < start || end > buffer.length) {
      throw new RangeError(`range [${start}, ${end}) is outside the buffer or overlaps another`)
    }
    from = end
  }
  return sorted
}
