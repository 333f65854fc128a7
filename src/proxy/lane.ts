/**
 * The SOAP router's own lane (docs/architecture.md#the-soap-router-lane):
 * `POST /nl/jsp/soaprouter.jsp`, nearly every call an integration makes,
 * goes from Node's HTTP server straight to the request flow, without
 * Fastify's per-request objects, hooks, content-type parsing and reply
 * machinery (a Fastify route around the same work measured 1.31 × the CPU
of a bare Node server; the lane took 8 % off a small call's CPU,
docs/benchmarks.md).
 * Everything else (the WSDL, `/r/test`, other paths, a request Fastify
 * must judge first) goes through Fastify's route, which runs the same
 * flow: the two lanes give the same answers, faults and access lines.
 *
 * The lane's request and reply are the subset of Fastify's that the flow
 * uses (flow.ts `FlowRequest`, `FlowReply`), and behave as Fastify's do:
 * a buffer answer gets its exact Content-Length, a stream answer is piped
 * with the source destroyed when the client goes away and the connection
 * cut when it fails after the status line; a failure before any answer is
 * the fault handler's.
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { finished, type Readable } from 'node:stream'
import type { FastifyBaseLogger } from 'fastify'
import { RequestLogger } from '../observability/request-logger.js'
import { SOAP_ROUTER_PATH } from '../auth/identity.js'
import { CLIENT_CLOSED_REQUEST, type RecordRequest } from './accounting.js'
import type { ProxyContext } from './context.js'
import type { FlowHandler, FlowReply, FlowRequest } from './flow.js'
import { requestIdOf } from './headers.js'

/** Handles `request` when it is the lane's (true), else leaves it to Fastify (false). */
export type Lane = (request: IncomingMessage, response: ServerResponse) => boolean

/** Answers an error of the flow as a fault (plugin.ts, the same function as Fastify's error handler). */
export type FaultAnswer = (err: unknown, request: FlowRequest, reply: FlowReply) => void

export interface LaneDependencies {
  readonly handle: FlowHandler
  readonly fault: FaultAnswer
  readonly record: RecordRequest
  readonly log: FastifyBaseLogger
  /** True once the server is closing: Fastify then answers 503 to what arrives on open connections. */
  readonly isClosing: () => boolean
}

/**
 * A media type Fastify accepts (RFC 9110 token "/" token, parameters
 * after ";"). Anything else, or no Content-Type, goes to Fastify, which
 * answers it as it always has.
 */
const MEDIA_TYPE = /^[ \t]*[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+[ \t]*(?:;|$)/

export function isLaneRequest (request: IncomingMessage): boolean {
  if (request.method !== 'POST') return false
  const url = request.url as string
  if (!url.startsWith(SOAP_ROUTER_PATH) || (url.length > SOAP_ROUTER_PATH.length && url.charCodeAt(SOAP_ROUTER_PATH.length) !== 0x3f /* ? */)) return false
  const contentType = request.headers['content-type']
  return contentType !== undefined && MEDIA_TYPE.test(contentType)
}

export function soapRouterLane (deps: LaneDependencies): Lane {
  return (raw, response) => {
    if (deps.isClosing() || !isLaneRequest(raw)) return false
    const id = requestIdOf(raw)
    const request = new LaneRequest(raw, id, new RequestLogger(deps.log, { reqId: id }, {}))
    const reply = new LaneReply(response, request, deps.fault)
    response.once('finish', () => { deps.record(request, response.statusCode, reply.bytesOut) })
    raw.once('close', () => { if (raw.aborted) deps.record(request, CLIENT_CLOSED_REQUEST, undefined) })
    deps.handle(request, reply).catch((err: unknown) => {
      if (!reply.sent) {
        deps.fault(err, request, reply)
        return
      }
      // An answer has started: it cannot become a fault any more (Fastify logs "Reply was already sent" likewise).
      request.log.error({ err }, 'error on the request path after the answer started')
      response.destroy()
    })
    return true
  }
}

export class LaneRequest implements FlowRequest {
  proxy: ProxyContext | null = null
  readonly raw: IncomingMessage
  readonly id: string
  readonly log: FastifyBaseLogger
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  /** The body is the flow's to read: the request stream itself, as Fastify's catch-all parser hands it on. */
  readonly body: IncomingMessage

  constructor (raw: IncomingMessage, id: string, log: FastifyBaseLogger) {
    this.raw = raw
    this.id = id
    this.log = log
    this.method = raw.method as string
    this.url = raw.url as string
    this.headers = raw.headers
    this.body = raw
  }
}

export class LaneReply implements FlowReply {
  #status = 200
  #headers: OutgoingHttpHeaders = {}
  /** The Content-Length sent (for the access line), when there was one. */
  bytesOut: string | number | undefined
  /** An answer has started: a failure after it cannot be answered as a fault. */
  sent = false

  readonly raw: ServerResponse
  readonly request: LaneRequest
  readonly #fault: FaultAnswer

  constructor (raw: ServerResponse, request: LaneRequest, fault: FaultAnswer) {
    this.raw = raw
    this.request = request
    this.#fault = fault
  }

  get log (): FastifyBaseLogger {
    return this.request.log
  }

  code (status: number): this {
    this.#status = status
    return this
  }

  header (name: string, value: string): this {
    this.#headers[name.toLowerCase()] = value
    return this
  }

  /** Names are already lower case (undici's and the proxy's own). */
  headers (values: IncomingHttpHeaders): this {
    for (const name in values) {
      const value = values[name]
      if (value !== undefined) this.#headers[name] = value
    }
    return this
  }

  type (contentType: string): this {
    this.#headers['content-type'] = contentType
    return this
  }

  send (body: Buffer | string | Readable): this {
    this.sent = true
    const response = this.raw
    const headers = this.#headers
    if (this.#status === 204) {
      // No content: neither its type nor its length is sent (RFC 9110 section 8.6). Campaign's 204 has no body to drain.
      delete headers['content-length']
      delete headers['content-type']
      response.writeHead(204, headers).end()
      return this
    }
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      const length = Buffer.byteLength(body)
      headers['content-length'] = length
      this.bytesOut = length
      response.writeHead(this.#status, headers).end(body)
      return this
    }
    this.bytesOut = headers['content-length'] as string | undefined
    this.#stream(body)
    return this
  }

  /** As Fastify's reply sends a stream: the status line goes with its first bytes, so a failure before them is still a fault. */
  #stream (body: Readable): void {
    const response = this.raw
    let isSourceOpen = true
    let isErrorLogged = false
    const logError = (err: Error): void => {
      if (isErrorLogged) return
      isErrorLogged = true
      if ((err as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') this.log.warn({ err }, 'response terminated with an error with headers already sent')
    }
    finished(body, { readable: true, writable: false }, (err) => {
      isSourceOpen = false
      if (err === undefined || err === null) return
      if (response.headersSent || this.request.raw.aborted) {
        logError(err)
        response.destroy()
        return
      }
      // Fastify's error path: the fault replaces Campaign's body and its framing.
      this.sent = false
      delete this.#headers['content-length']
      delete this.#headers['content-type']
      for (const name of response.getHeaderNames()) response.removeHeader(name)
      this.#fault(err, this.request, this)
    })
    finished(response, (err) => {
      if (!isSourceOpen) return
      if (err !== undefined && err !== null && response.headersSent) logError(err)
      body.destroy()
    })
    response.statusCode = this.#status
    for (const name in this.#headers) response.setHeader(name, this.#headers[name] as string | string[] | number)
    body.pipe(response)
  }
}
