/**
 * Every fault the proxy answers itself, in one place: its HTTP status, its
 * Campaign-shaped message, and whether the client should retry later.
 */
import { soapFault } from './envelope.js'

export interface ProxyFaultDef {
  readonly status: number
  readonly code: 'Client' | 'Server'
  readonly message: string
}

export const PROXY_FAULTS = {
  /** Campaign's own message, so clients (acc-js-sdk: 401 + refreshClient) log on again. */
  sessionInvalid: { status: 500, code: 'Client', message: 'XSV-350008 Session has expired or is invalid. Please reconnect.' },
  /** Campaign's own message for a wrong login or password (and a locked login: nothing tells them apart). */
  invalidLogin: { status: 500, code: 'Client', message: 'XSV-350012 Invalid login or password. Connection denied.' },
  doctype: { status: 400, code: 'Client', message: 'PRX-000001 DOCTYPE and ENTITY declarations are not accepted.' },
  notXml: { status: 400, code: 'Client', message: 'PRX-000002 The request body is not a SOAP envelope.' },
  noMethod: { status: 400, code: 'Client', message: 'PRX-000003 No SOAP method element was found in the request body.' },
  tooLarge: { status: 413, code: 'Client', message: 'PRX-000004 The request body is larger than the proxy accepts.' },
  unsupportedEncoding: { status: 415, code: 'Client', message: 'PRX-000005 The request body encoding is not supported: send UTF-8 or another ASCII-compatible encoding.' },
  imsUnavailable: { status: 503, code: 'Server', message: 'PRX-000010 No valid Adobe IMS token is available for this integration yet. Retry later.' },
  upstreamUnavailable: { status: 502, code: 'Server', message: 'PRX-000011 Adobe Campaign could not be reached.' },
  upstreamTimeout: { status: 504, code: 'Server', message: 'PRX-000012 Adobe Campaign did not answer in time.' },
  internal: { status: 500, code: 'Server', message: 'PRX-000013 The proxy failed to process the request.' },
  overloaded: { status: 503, code: 'Server', message: 'PRX-000014 Too many requests of this integration are in progress or waiting. Retry later.' },
  contentEncoding: { status: 415, code: 'Client', message: 'PRX-000006 Compressed request bodies (Content-Encoding) are not accepted: send the SOAP envelope uncompressed.' },
  badRequest: { status: 400, code: 'Client', message: 'PRX-000008 The request is malformed.' },
  invalidMediaType: { status: 415, code: 'Client', message: 'PRX-000009 The Content-Type header is not a valid media type.' },
  badStructure: { status: 400, code: 'Client', message: 'PRX-000015 The SOAP envelope is not accepted: it must hold an optional Header, then one Body with one method element whose first parameter is the session token as text, and nothing after the Body.' },
  actionMismatch: { status: 400, code: 'Client', message: 'PRX-000016 The SOAPAction (or action parameter) does not name the method in the SOAP Body.' },
  misdirected: { status: 421, code: 'Client', message: 'PRX-000017 No Campaign instance is configured for this host.' },
  /** Least privilege: the integration's allowedMethods / allowedPaths do not list the call (the detail names both). */
  forbidden: { status: 403, code: 'Client', message: 'PRX-000018 This integration is not allowed to make this call through the proxy (allowedMethods, allowedPaths).' },
  badPath: { status: 400, code: 'Client', message: 'PRX-000007 The request path is not accepted: send it in canonical form, without path parameters (;), dot segments, doubled or back slashes, escaped unreserved characters, a fragment or an absolute URL.' },
} as const satisfies Record<string, ProxyFaultDef>

export type ProxyFaultName = keyof typeof PROXY_FAULTS

/** Thrown by pure modules (soap/, auth/) and mapped to a response in one place (proxy/). */
export class ProxyFault extends Error {
  override name = 'ProxyFault'
  readonly fault: ProxyFaultName
  /** What exactly was wrong, for the client's fault `<detail>` (never a secret or an internal address). */
  readonly detail: string | undefined
  /** Sent as `Retry-After` when set. */
  readonly retryAfterSeconds: number | undefined

  constructor (fault: ProxyFaultName, options: { cause?: unknown, detail?: string, retryAfterSeconds?: number } = {}) {
    super(options.detail ?? PROXY_FAULTS[fault].message, options.cause === undefined ? undefined : { cause: options.cause })
    this.fault = fault
    this.detail = options.detail
    this.retryAfterSeconds = options.retryAfterSeconds
  }
}

/**
 * The SOAP fault body for `fault`. `detail` is for the client (never an
 * internal address or secret); the request id lets an operator find the
 * log line.
 */
export function proxyFaultBody (fault: ProxyFaultName, requestId: string, detail?: string): string {
  const def = PROXY_FAULTS[fault]
  return soapFault({ code: def.code, message: def.message, detail: detail === undefined ? `request id ${requestId}` : `${detail}; request id ${requestId}` })
}
