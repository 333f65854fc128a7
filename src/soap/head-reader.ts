/**
 * Reads just enough of a streamed request body to locate the SOAP method
 * (the large-body path of docs/architecture.md#body-paths), and hands back
 * the rest untouched.
 */
import { gathered, joined, readUpTo, type Gathered } from '../io/streams.js'
import { ProxyFault } from './faults.js'
import { NeedMoreInput, scanLimitsOf, scanSoap, type LocateOptions, type SoapLocation } from './locate-scanner.js'

/** The default bound on the head of a streamed body (`limits.headBytes`). */
export const DEFAULT_HEAD_LIMIT = 64 * 1024

export interface SoapHead {
  /** Every byte read from the source: at least `location.headLength`, at most `headLimit` plus one chunk. */
  readonly head: Buffer
  readonly location: SoapLocation
  /** The chunks of the source not read yet; `head` followed by them is the whole body. */
  readonly rest: AsyncIterable<Buffer>
}

/**
 * Reads chunks of `source` (after those already in `into`) until the method is located in the first
 * `headLimit` bytes. Throws ProxyFault `noMethod` when it is not (the head
 * limit), `notXml` when the body ends first, and whatever `locateSoap`
 * refuses. On failure the source is left as it is (the caller still answers
 * on the same connection).
 */
export async function readSoapHead (source: AsyncIterable<Buffer>, headLimit: number, options?: LocateOptions, into: Gathered = gathered()): Promise<SoapHead> {
  if (!Number.isSafeInteger(headLimit) || headLimit < 1) throw new RangeError(`headLimit must be a positive integer, got ${headLimit}`)
  const limits = scanLimitsOf(options)
  const iterator = source[Symbol.asyncIterator]()
  const rest: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => iterator }
  // Scan again only once the head has doubled: each scan starts from byte 0,
  // and tiny chunks must not make reading the head quadratic.
  let nextScan = into.size + 1
  for (;;) {
    const ended = await readUpTo(iterator, Math.min(nextScan, headLimit), into)
    const head = joined(into)
    // A complete body is located or refused, never "need more".
    if (ended) return { head, location: scanSoap(head, true, limits), rest: NOTHING_LEFT }
    nextScan = into.size * 2
    try {
      return { head, location: scanSoap(head.subarray(0, headLimit), false, limits), rest }
    } catch (err) {
      if (!(err instanceof NeedMoreInput)) throw err
      if (into.size >= headLimit) {
        throw new ProxyFault('noMethod', { detail: `the SOAP method and its first parameters were not found in the first ${headLimit} bytes (head limit)` })
      }
    }
  }
}

const NOTHING_LEFT: AsyncIterable<Buffer> = {
  [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }),
}
