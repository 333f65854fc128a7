/**
 * The HTTP side of a token request: the `client_credentials` form (reference
 * CAMPAIGN-AND-IMS section 3) POSTed with undici, TLS always verified, and
 * connect, headers and body timeouts set explicitly.
 */
import { readFileSync } from 'node:fs'
import { rootCertificates } from 'node:tls'
import { Agent, fetch } from 'undici'
import type { ImsConfig } from '../config/types.js'

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded'

export interface TokenRequest {
  readonly tokenUrl: string
  readonly clientId: string
  readonly clientSecret: string
  readonly scopes: readonly string[]
  readonly signal: AbortSignal
}

/** The part of a fetch `Response` the provider reads. */
export interface TokenResponseLike {
  readonly status: number
  readonly headers: { get (name: string): string | null }
  text (): Promise<string>
}

export type RequestToken = (request: TokenRequest) => Promise<TokenResponseLike>

export interface TokenTransport {
  readonly requestToken: RequestToken
  close (): Promise<void>
}

/** The form body, fields in the order IMS documents them; scopes comma-joined. */
export function tokenRequestBody (request: Pick<TokenRequest, 'clientId' | 'clientSecret' | 'scopes'>): string {
  return new URLSearchParams([
    ['grant_type', 'client_credentials'],
    ['client_id', request.clientId],
    ['client_secret', request.clientSecret],
    ['scope', request.scopes.join(',')],
  ]).toString()
}

/**
 * An undici transport with its own connection pool. `ims.caFile` adds a CA
 * (PEM) to the system ones, for a TLS-inspecting egress proxy; it is read
 * once, here, and an unreadable file throws at construction.
 */
export function createUndiciTransport (ims: ImsConfig): TokenTransport {
  const timeoutMs = ims.timeoutSeconds * 1000
  const agent = new Agent({
    connect: {
      rejectUnauthorized: true,
      timeout: timeoutMs,
      ...(ims.caFile === undefined ? {} : { ca: [...rootCertificates, readCaFile(ims.caFile)] }),
    },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  })
  return {
    requestToken: (request) => fetch(request.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': FORM_CONTENT_TYPE, accept: 'application/json' },
      body: tokenRequestBody(request),
      // A redirect from the token endpoint is unexpected: report it, never replay the secret elsewhere.
      redirect: 'manual',
      signal: request.signal,
      dispatcher: agent,
    }),
    close: () => agent.close(),
  }
}

function readCaFile (path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new Error(`cannot read ims.caFile ${path}: ${(err as NodeJS.ErrnoException).code}`, { cause: err })
  }
}
