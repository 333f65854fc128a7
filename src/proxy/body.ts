/**
 * The two body paths of SPEC section 3: a body up to the replay limit is
 * read whole, rewritten in memory and sent as one buffer; a larger one has
 * only its head rewritten and the rest streamed, so memory per request does
 * not grow with the body.
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

export interface RewrittenBody {
  /** A Buffer (kept for replay) or a stream of the rewritten head followed by the untouched rest. */
  readonly body: Buffer | Readable
  /** Exact length of `body`, when known (the client sent Content-Length, or the body was read whole). */
  readonly length: number | undefined
  readonly location: SoapLocation
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
 * Reads the request body as the proxy needs it and returns it rewritten.
 * Throws ProxyFault for input it refuses (nothing has been forwarded then).
 */
export async function rewriteRequestBody (source: IncomingMessage, declaredLength: number | undefined, limits: BodyLimits): Promise<RewrittenBody> {
  if (declaredLength !== undefined && declaredLength > limits.maxBodyBytes) throw new ProxyFault('tooLarge')
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  const buffered: Buffer[] = []
  let size = 0
  if (declaredLength === undefined || declaredLength <= limits.replayLimitBytes) {
    for (;;) {
      const next = await chunks.next()
      if (next.done === true) {
        const whole = Buffer.concat(buffered, size)
        const result = locateSoap(whole, true)
        /* c8 ignore next -- a complete body is either found or refused by locateSoap */
        if (result.kind !== 'found') throw new ProxyFault('noMethod')
        const rewritten = emptyRanges(whole, credentialRanges(result.location))
        return { body: rewritten, length: rewritten.length, location: result.location }
      }
      buffered.push(next.value)
      size += next.value.length
      if (size > limits.replayLimitBytes) break
    }
  }
  // Larger than the replay limit: rewrite the head, stream the rest.
  const rest: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => chunks }
  const { head, location, rest: after } = await readSoapHead(prepend(buffered, rest), limits.headBytes)
  const newHead = emptyRanges(head, credentialRanges(location))
  const removed = head.length - newHead.length
  return {
    body: Readable.from(bounded(newHead, after, limits.maxBodyBytes), { objectMode: false }),
    length: declaredLength === undefined ? undefined : declaredLength - removed,
    location,
  }
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
