/**
 * The two body paths (docs/architecture.md#body-paths): a body up to the
 * replay limit is read whole, rewritten in memory and kept (in the chunks
 * it came in) to be sent and replayed; a larger one has only its head
 * read (and rewritten) and the rest streamed, so memory per request does
 * not grow with the body.
 *
 * Reading and rewriting are two steps: identity is decided from the
 * located elements in between (a Logon answered locally, a passthrough
 * caller forwarded byte for byte).
 */
import { Readable } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import { gathered, joined, readAll, readUpTo, type Gathered } from '../io/streams.js'
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
  /**
   * Every byte, in the chunks it came in (a body of a few KiB comes in
   * one): the first chunk holds every element `location` found (its
   * offsets are in that chunk), and all of them were checked.
   */
  | { readonly kind: 'whole', readonly chunks: readonly Buffer[], readonly size: number, readonly location: SoapLocation }
  /** `structure` has checked `head`, and checks the rest as it is sent. */
  | { readonly kind: 'head', readonly head: Buffer, readonly rest: AsyncIterable<Buffer>, readonly declaredLength: number | undefined, readonly location: SoapLocation, readonly structure: SoapStructureCheck }

/**
 * A body kept in memory, which can be sent again: one buffer, or the
 * chunks it came in, sent one after the other (undici's `dispatch` takes
 * an iterable body; joining 100 KiB of chunks into one buffer first was
 * about a tenth of such a call's CPU, docs/benchmarks.md).
 */
export type KeptBody = Buffer | readonly Buffer[]

/** Whether a request body is kept in memory (it can be replayed), rather than a stream that is gone once sent. */
export function isKept (body: KeptBody | Readable): body is KeptBody {
  return !(body instanceof Readable)
}

export interface OutgoingBody {
  /** Kept (for replay), or a stream of the (rewritten) head followed by the untouched rest. */
  readonly body: KeptBody | Readable
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
  if (declaredLength === undefined && await readUpTo(iterator, limits.replayLimitBytes + 1, into)) return whole(into)
  const { head, location, rest } = await readSoapHead({ [Symbol.asyncIterator]: () => iterator }, limits.headBytes, PROXY_LOCATE, into)
  const structure = new SoapStructureCheck(location.envelope)
  structure.push(head.subarray(location.envelope.contentStart))
  return { kind: 'head', head, rest, declaredLength, location, structure }
}

/**
 * Chunks kept as they came, at most: a body that came in more (a client
 * sending a few bytes at a time) is joined, so that Campaign never gets
 * it in as many writes, nor is a request left holding as many objects.
 * 64 socket reads of 64 KiB are 4 MiB, past the default replay limit.
 */
export const MAX_KEPT_CHUNKS = 64

/**
 * A body read whole. In several chunks (up to MAX_KEPT_CHUNKS), it is
 * kept as they came when the first holds what the proxy locates (once
 * found, more bytes never change what locateSoap found), and each is
 * checked in turn; otherwise (the method or its token beyond the first
 * chunk, or too many chunks) the chunks are joined.
 */
function whole ({ chunks, size }: Gathered): ReadBody {
  if (chunks.length > 1 && chunks.length <= MAX_KEPT_CHUNKS) {
    const first = chunks[0] as Buffer
    const result = locateSoap(first, false, PROXY_LOCATE)
    if (result.kind === 'found') {
      checkSoapStructure(chunks, result.location.envelope)
      return { kind: 'whole', chunks, size, location: result.location }
    }
  }
  const buffer = joined({ chunks, size })
  const result = locateSoap(buffer, true, PROXY_LOCATE)
  /* c8 ignore next -- a complete body is either found or refused by locateSoap */
  if (result.kind !== 'found') throw new ProxyFault('noMethod')
  checkSoapStructure(buffer, result.location.envelope)
  return { kind: 'whole', chunks: [buffer], size, location: result.location }
}

/** The body to send upstream with `ranges` emptied (none: byte for byte). */
export function outgoingBody (read: ReadBody, ranges: readonly ByteRange[], maxBodyBytes: number): OutgoingBody {
  if (read.kind === 'whole') {
    const first = read.chunks[0] as Buffer
    const head = emptyRangesInPlace(first, ranges)
    const length = read.size - (first.length - head.length)
    if (read.chunks.length === 1) return { body: head, length }
    const chunks = read.chunks.slice()
    chunks[0] = head
    return { body: chunks, length }
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
