/**
 * The two body paths (docs/architecture.md#body-paths): a body up to the
 * replay limit is read whole, rewritten in memory and sent as one buffer;
 * a larger one has only its head read (and rewritten) and the rest
 * streamed, so memory per request does not grow with the body.
 *
 * Reading and rewriting are two steps: identity is decided from the
 * located elements in between (a Logon answered locally, a passthrough
 * caller forwarded byte for byte).
 */
import { Readable } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import { gathered, joined, readAll, readUpTo } from '../io/streams.js'
import { LOGON_METHOD } from '../auth/identity.js'
import { checkSoapStructure, DEFAULT_MAX_PARAMS, emptyRangesInPlace, locateSoap, readSoapHead, SoapStructureCheck, type ByteRange, type LocateOptions, type SoapLocation } from '../soap/locate.js'
import { ProxyFault } from '../soap/faults.js'
import { BodyTooLargeError } from './errors.js'

export interface BodyLimits {
  readonly maxBodyBytes: number
  readonly replayLimitBytes: number
  readonly headBytes: number
}

/** A SOAP body read as far as the proxy needs it. */
export type ReadBody =
  | { readonly kind: 'whole', readonly buffer: Buffer, readonly location: SoapLocation }
  /** `structure` has checked `head`, and checks the rest as it is sent. */
  | { readonly kind: 'head', readonly head: Buffer, readonly rest: AsyncIterable<Buffer>, readonly declaredLength: number | undefined, readonly location: SoapLocation, readonly structure: SoapStructureCheck }

export interface OutgoingBody {
  /** A Buffer (kept for replay) or a stream of the (rewritten) head followed by the untouched rest. */
  readonly body: Buffer | Readable
  /** Exact length of `body`, when known (the client sent Content-Length, or the body was read whole). */
  readonly length: number | undefined
}

/**
 * What the proxy reads of a method's parameters: the session token (the
 * first), and Logon's login and password. Skipping the rest (a PushEvent's
 * event document) is about a tenth of a small call's CPU.
 */
export const PROXY_LOCATE: LocateOptions = { paramsFor: method => method === LOGON_METHOD ? DEFAULT_MAX_PARAMS : 1 }

/** The contents to empty: the session token (first parameter) and every SOAP Header Cookie / X-Security-Token (duplicates included). */
export function credentialRanges (location: SoapLocation): ByteRange[] {
  const ranges: ByteRange[] = []
  for (const element of [location.params[0], ...location.headerCredentials]) {
    if (element?.content !== undefined && element.content.end > element.content.start) ranges.push(element.content)
  }
  return ranges
}

/**
 * Reads the request body: whole up to the replay limit, else its head.
 * Throws ProxyFault for input it refuses (nothing has been forwarded then).
 */
export async function readRequestBody (source: IncomingMessage, declaredLength: number | undefined, limits: BodyLimits): Promise<ReadBody> {
  if (declaredLength !== undefined && declaredLength > limits.maxBodyBytes) throw new ProxyFault('tooLarge')
  // The common case (a SOAP call of a few KiB with Content-Length): plain events, cheaper than an async iterator.
  if (declaredLength !== undefined && declaredLength <= limits.replayLimitBytes) return whole(await readAll(source))
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  const into = gathered()
  if (declaredLength === undefined && await readUpTo(iterator, limits.replayLimitBytes + 1, into)) return whole(joined(into))
  const { head, location, rest } = await readSoapHead({ [Symbol.asyncIterator]: () => iterator }, limits.headBytes, PROXY_LOCATE, into)
  const structure = new SoapStructureCheck(location.envelope)
  structure.push(head.subarray(location.envelope.contentStart))
  return { kind: 'head', head, rest, declaredLength, location, structure }
}

function whole (buffer: Buffer): ReadBody {
  const result = locateSoap(buffer, true, PROXY_LOCATE)
  /* c8 ignore next -- a complete body is either found or refused by locateSoap */
  if (result.kind !== 'found') throw new ProxyFault('noMethod')
  checkSoapStructure(buffer, result.location.envelope)
  return { kind: 'whole', buffer, location: result.location }
}

/** The body to send upstream with `ranges` emptied (none: byte for byte). */
export function outgoingBody (read: ReadBody, ranges: readonly ByteRange[], maxBodyBytes: number): OutgoingBody {
  if (read.kind === 'whole') {
    const body = emptyRangesInPlace(read.buffer, ranges)
    return { body, length: body.length }
  }
  const head = emptyRangesInPlace(read.head, ranges)
  return {
    body: Readable.from(bounded(head, read.rest, maxBodyBytes, read.structure), { objectMode: false }),
    length: read.declaredLength === undefined ? undefined : read.declaredLength - (read.head.length - head.length),
  }
}

/**
 * The head, then the rest as it arrives, each chunk checked before it is
 * sent: past the limit, or at the first byte breaking the envelope's
 * structure, the stream fails, so Campaign gets an incomplete request it
 * does not run, and the client the proxy's fault.
 */
async function * bounded (head: Buffer, rest: AsyncIterable<Buffer>, limit: number, structure: SoapStructureCheck): AsyncGenerator<Buffer> {
  let total = head.length
  yield head
  for await (const chunk of rest) {
    total += chunk.length
    if (total > limit) throw new BodyTooLargeError(`request body exceeds ${limit} bytes`)
    structure.push(chunk)
    yield chunk
  }
  structure.end()
}
