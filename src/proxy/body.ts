/**
 * The two body paths of SPEC section 3: a body up to the replay limit is
 * read whole, rewritten in memory and sent as one buffer; a larger one has
 * only its head read (and rewritten) and the rest streamed, so memory per
 * request does not grow with the body.
 *
 * Reading and rewriting are two steps: identity is decided from the
 * located elements in between (a Logon answered locally, a passthrough
 * caller forwarded byte for byte).
 */
import { Readable } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import { emptyRanges, locateSoap, readSoapHead, type ByteRange, type SoapLocation } from '../soap/locate.js'
import { ProxyFault } from '../soap/faults.js'

export interface BodyLimits {
  readonly maxBodyBytes: number
  readonly replayLimitBytes: number
  readonly headBytes: number
}

/** A SOAP body read as far as the proxy needs it. */
export type ReadBody =
  | { readonly kind: 'whole', readonly buffer: Buffer, readonly location: SoapLocation }
  | { readonly kind: 'head', readonly head: Buffer, readonly rest: AsyncIterable<Buffer>, readonly declaredLength: number | undefined, readonly location: SoapLocation }

export interface OutgoingBody {
  /** A Buffer (kept for replay) or a stream of the (rewritten) head followed by the untouched rest. */
  readonly body: Buffer | Readable
  /** Exact length of `body`, when known (the client sent Content-Length, or the body was read whole). */
  readonly length: number | undefined
}

/** The contents to empty: the session token (first parameter) and every SOAP Header Cookie / X-Security-Token (duplicates included). */
export function credentialRanges (location: SoapLocation): ByteRange[] {
  const ranges: ByteRange[] = []
  for (const element of [location.params[0], ...location.headerCredentials]) {
    if (element?.content !== undefined && element.content.end > element.content.start) ranges.push(element.content)
  }
  return ranges
}

/** Raised inside the upstream body stream when a body without Content-Length grows past the limit. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError'
}

/**
 * Reads the request body: whole up to the replay limit, else its head.
 * Throws ProxyFault for input it refuses (nothing has been forwarded then).
 */
export async function readRequestBody (source: IncomingMessage, declaredLength: number | undefined, limits: BodyLimits): Promise<ReadBody> {
  if (declaredLength !== undefined && declaredLength > limits.maxBodyBytes) throw new ProxyFault('tooLarge')
  if (declaredLength !== undefined && declaredLength <= limits.replayLimitBytes) {
    // The common case (a SOAP call of a few KiB with Content-Length): plain events, cheaper than an async iterator.
    const buffer = await readAll(source)
    const result = locateSoap(buffer, true)
    /* c8 ignore next -- a complete body is either found or refused by locateSoap */
    if (result.kind !== 'found') throw new ProxyFault('noMethod')
    return { kind: 'whole', buffer, location: result.location }
  }
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  const buffered: Buffer[] = []
  let size = 0
  if (declaredLength === undefined || declaredLength <= limits.replayLimitBytes) {
    for (;;) {
      const next = await chunks.next()
      if (next.done === true) {
        const buffer = Buffer.concat(buffered, size)
        const result = locateSoap(buffer, true)
        /* c8 ignore next -- a complete body is either found or refused by locateSoap */
        if (result.kind !== 'found') throw new ProxyFault('noMethod')
        return { kind: 'whole', buffer, location: result.location }
      }
      buffered.push(next.value)
      size += next.value.length
      if (size > limits.replayLimitBytes) break
    }
  }
  const rest: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => chunks }
  const { head, location, rest: after } = await readSoapHead(prepend(buffered, rest), limits.headBytes)
  return { kind: 'head', head, rest: after, declaredLength, location }
}

/** The body to send upstream with `ranges` emptied (none: byte for byte). */
export function outgoingBody (read: ReadBody, ranges: readonly ByteRange[], maxBodyBytes: number): OutgoingBody {
  if (read.kind === 'whole') {
    const body = emptyRanges(read.buffer, ranges)
    return { body, length: body.length }
  }
  const head = emptyRanges(read.head, ranges)
  return {
    body: Readable.from(bounded(head, read.rest, maxBodyBytes), { objectMode: false }),
    length: read.declaredLength === undefined ? undefined : read.declaredLength - (read.head.length - head.length),
  }
}

/** Every byte of a readable stream (its length is already bounded by the caller). */
export function readAll (source: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => { chunks.push(chunk); size += chunk.length }
    const cleanup = (): void => {
      source.off('data', onData)
      source.off('end', onEnd)
      source.off('error', onError)
      source.off('close', onClose)
    }
    const onEnd = (): void => { cleanup(); resolve(chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, size)) }
    const onError = (err: Error): void => { cleanup(); reject(err) }
    const onClose = (): void => { cleanup(); reject(Object.assign(new Error('the stream closed before its end'), { code: 'ECONNRESET' })) }
    source.on('data', onData)
    source.once('end', onEnd)
    source.once('error', onError)
    source.once('close', onClose)
  })
}

async function * prepend (first: readonly Buffer[], rest: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield * first
  yield * rest
}

async function * bounded (head: Buffer, rest: AsyncIterable<Buffer>, limit: number): AsyncGenerator<Buffer> {
  let total = head.length
  yield head
  for await (const chunk of rest) {
    total += chunk.length
    if (total > limit) throw new BodyTooLargeError(`request body exceeds ${limit} bytes`)
    yield chunk
  }
}
