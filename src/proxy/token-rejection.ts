/**
 * Recognising Campaign's "this token is not valid" answers (SPEC section 5)
 * without holding big responses: HTTP 401, or a SOAP fault carrying
 * `XSV-350008` (session expired or invalid, as Campaign answers a bearer it
 * does not accept) or `XSV-350114` ... `401` (its IMS profile call was
 * refused). A fault is small: only responses that end within a bounded
 * head are inspected; anything longer is streamed on untouched.
 */
import { Readable } from 'node:stream'
import { readAll } from './body.js'

/** Responses whose body ends within this many bytes are inspected (and sent as one buffer). */
export const RESPONSE_HEAD_BYTES = 64 * 1024

/** Whether a complete response body is a SOAP fault saying the bearer token is not accepted. */
export function isTokenRejectionFault (body: Buffer): boolean {
  const text = body.toString('latin1')
  if (!text.includes('Fault')) return false
  if (text.includes('XSV-350008')) return true
  const at = text.indexOf('XSV-350114')
  return at !== -1 && /\b401\b/.test(text.slice(at))
}

export type ResponseHead =
  | { readonly complete: true, readonly body: Buffer }
  | { readonly complete: false, readonly body: Readable }

/** Reads `stream` until it ends or passes `limit` bytes: the whole body, or a stream of what was read followed by the rest. */
export async function readResponseHead (stream: Readable, limit = RESPONSE_HEAD_BYTES, declaredLength?: number): Promise<ResponseHead> {
  if (declaredLength !== undefined && declaredLength <= limit) return { complete: true, body: await readAll(stream) }
  const chunks: Buffer[] = []
  let size = 0
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  for (;;) {
    const next = await iterator.next()
    if (next.done === true) return { complete: true, body: chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, size) }
    chunks.push(next.value)
    size += next.value.length
    if (size > limit) break
  }
  async function * rest (): AsyncGenerator<Buffer> {
    yield * chunks
    for (;;) {
      const next = await iterator.next()
      if (next.done === true) return
      yield next.value
    }
  }
  return { complete: false, body: Readable.from(rest(), { objectMode: false }) }
}

/** The session token in a Campaign `LogonResponse` (`pstrSessionToken`), if any. */
export function logonResponseSessionToken (body: Buffer): string | undefined {
  const match = /<pstrSessionToken\b[^>]*>([^<]{1,1024})<\/pstrSessionToken>/.exec(body.toString('latin1'))
  return match?.[1]?.trim() || undefined
}
