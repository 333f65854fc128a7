/**
 * The lean forwarder (docs/architecture.md#forwarding): one request to
 * Campaign through undici's `dispatch`, with no stream machinery for what
 * is small. An answer the proxy wants to inspect (a possible token
 * rejection, a Logon, a WSDL) is collected as one buffer when it ends
 * within the limit the caller gives for its status; anything else, or
 * anything longer, is handed on as a stream with backpressure (undici
 * pauses the socket while the client does not read).
 */
import type { IncomingHttpHeaders } from 'node:http'
import { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { ProxyFault } from '../soap/faults.js'
import { BodyTooLargeError, UpstreamError } from './errors.js'

export interface UpstreamCall {
  readonly method: string
  /** Path and query, as the client sent them (already checked to be a plain origin-form path). */
  readonly path: string
  readonly headers: IncomingHttpHeaders
  /** One buffer, the chunks of a kept body (sent in order), a stream, or none. */
  readonly body: Buffer | readonly Buffer[] | Readable | null
  /** Bytes of an answer with this status to collect whole (0: stream it). */
  readonly collectUpTo: (status: number, headers: IncomingHttpHeaders) => number
  /**
   * A streamed answer that makes no progress for this long (the client
   * reads nothing, and Campaign's data waits for it) is cut, and its
   * upstream connection released; `onIdle` is told.
   */
  readonly idleTimeoutMs: number
  readonly onIdle: () => void
}

/** Raised into a streamed answer cut because its client stopped reading. */
export class SlowReaderError extends Error {
  override name = 'SlowReaderError'
}

export interface UpstreamAnswer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  /** The whole body when it was collected, else a stream of it. */
  readonly body: Buffer | Readable
}

type DispatchController = Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseStart']>>[0]

/** Sends `call` to the dispatcher; rejects with UpstreamError (or the request body's BodyTooLargeError) when no answer starts. */
export function forward (dispatcher: Dispatcher, call: UpstreamCall): Promise<UpstreamAnswer> {
  return new Promise((resolve, reject) => {
    let status = 0
    let headers: IncomingHttpHeaders = {}
    let limit = 0
    let chunks: Buffer[] = []
    let size = 0
    let stream: Readable | undefined
    let settled = false

    let idle: NodeJS.Timeout | undefined
    const startStream = (controller: DispatchController): Readable => {
      const readable = new Readable({
        read () {
          (idle as NodeJS.Timeout).refresh()
          controller.resume()
        },
        destroy (err, callback) {
          clearTimeout(idle)
          if (!controller.aborted) controller.abort(err ?? new Error('the client stopped reading'))
          callback(err)
        },
      })
      idle = setTimeout(() => {
        call.onIdle()
        readable.destroy(new SlowReaderError(`no progress for ${call.idleTimeoutMs} ms`))
      }, call.idleTimeoutMs)
      for (const chunk of chunks) readable.push(chunk)
      chunks = []
      stream = readable
      settled = true
      resolve({ status, headers, body: readable })
      return readable
    }

    // undici's dispatch sends an iterable body (a list of chunks) in order; its type declarations list only single values.
    dispatcher.dispatch({ method: call.method, path: call.path, headers: call.headers, body: call.body as Buffer | Readable | null }, {
      // Present so that undici uses this (controller) form of the handler.
      onRequestStart () {},
      onResponseStart (controller, statusCode, responseHeaders) {
        /* c8 ignore next -- undici answers 100-continue itself; other informational answers are not sent by Campaign */
        if (statusCode < 200) return
        status = statusCode
        headers = responseHeaders
        limit = call.collectUpTo(statusCode, responseHeaders)
        const declared = responseHeaders['content-length']
        if (limit === 0 || (typeof declared === 'string' && Number(declared) > limit)) startStream(controller)
      },
      onResponseData (controller, chunk) {
        if (stream !== undefined) {
          (idle as NodeJS.Timeout).refresh()
          if (!stream.push(chunk)) controller.pause()
          return
        }
        chunks.push(chunk)
        size += chunk.length
        if (size > limit) startStream(controller)
      },
      onResponseEnd () {
        if (stream !== undefined) {
          clearTimeout(idle)
          stream.push(null)
          return
        }
        settled = true
        resolve({ status, headers, body: chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, size) })
      },
      onResponseError (_controller, err) {
        if (!settled) {
          settled = true
          // undici hands on the request body's own error as it is.
          reject(err instanceof BodyTooLargeError || err instanceof ProxyFault ? err : new UpstreamError(err))
          return
        }
        // Settled without a stream means the answer had ended: an error after it cannot happen, so a stream is there.
        // Wrapped: whoever logs the stream's error logs this one, not undici's, whose fields can hold Campaign's bytes.
        ;(stream as Readable).destroy(new UpstreamError(err))
      },
    })
  })
}
