/**
 * The forwarding plugin: resolves who is calling, gets the technical
 * account's token, rewrites the SOAP body, and hands the request to
 * @fastify/http-proxy (reply-from over an undici pool) with upstream
 * headers built deliberately. Async work happens in the preHandler and is
 * stored on `request.proxy`; reply-from's callbacks stay synchronous.
 */
import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import httpProxy from '@fastify/http-proxy'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Pool } from 'undici'
import { blockListOf, callerAddress, isInBlockList, networkMatcher, normaliseAddress } from '../auth/networks.js'
import { ImsConfigurationError, TokenUnavailableError } from '../ims/token-provider.js'
import type { Config, IntegrationConfig } from '../config/types.js'
import { SOAP_CONTENT_TYPE } from '../soap/envelope.js'
import { PROXY_FAULTS, ProxyFault, proxyFaultBody, type ProxyFaultName } from '../soap/faults.js'
import { BodyTooLargeError, rewriteRequestBody } from './body.js'
import { upstreamHeaders } from './headers.js'

export const SOAP_ROUTER_PATH = '/nl/jsp/soaprouter.jsp'
/** Keep-alive of idle upstream connections; Campaign's load balancers close idle ones after about a minute. */
export const UPSTREAM_KEEP_ALIVE_MS = 30_000

export interface BearerToken {
  readonly value: string
  readonly account: string
  readonly fingerprint: string
}

/** What the proxy needs from the IMS token provider. */
export interface TokenSource {
  get (account: string): Promise<BearerToken>
}

export interface ProxyContext {
  /** The socket peer (the client, or a trusted proxy in front of it). */
  readonly peer: string
  /** The client's address, through trusted proxies. */
  readonly caller: string
  readonly isPeerTrusted: boolean
  integration: IntegrationConfig | undefined
  token: BearerToken | undefined
  bodyLength: number | undefined
  soapMethod: string | undefined
  authPath: 'network' | 'passthrough' | 'anonymous'
}

declare module 'fastify' {
  interface FastifyRequest {
    proxy: ProxyContext
  }
}

/** The part of a Fastify reply a fault needs (any server type). */
interface FaultReply {
  readonly request: { readonly id: string }
  header (name: string, value: string): unknown
  code (status: number): { type (contentType: string): { send (body: string): unknown } }
}

export interface ProxyPluginOptions {
  readonly config: Config
  readonly tokens: TokenSource
}

export async function proxyPlugin (app: FastifyInstance, { config, tokens }: ProxyPluginOptions): Promise<void> {
  const integrations = networkMatcher(config.integrations.map(i => ({ networks: i.networks, value: i })))
  const trustedProxies = config.trustedProxies.length === 0 ? undefined : blockListOf(config.trustedProxies)
  const limits = config.limits
  const pool = new Pool(config.campaign.url, {
    connections: config.campaign.maxConnections,
    keepAliveTimeout: UPSTREAM_KEEP_ALIVE_MS,
    headersTimeout: config.campaign.timeoutSeconds * 1000,
    bodyTimeout: config.campaign.timeoutSeconds * 1000,
    connect: {
      timeout: config.campaign.connectTimeoutSeconds * 1000,
      rejectUnauthorized: true,
      ...(config.campaign.caFile === undefined ? {} : { ca: readFileSync(config.campaign.caFile) }),
    },
  })
  app.addHook('onClose', async () => { await pool.close() })

  app.decorateRequest('proxy', null as unknown as ProxyContext)

  const sendFault = (reply: FaultReply, fault: ProxyFaultName, detail?: string): void => {
    reply.code(PROXY_FAULTS[fault].status).type(SOAP_CONTENT_TYPE).send(proxyFaultBody(fault, reply.request.id, detail))
  }

  const preHandler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const peer = normaliseAddress(String(request.raw.socket.remoteAddress))
    const isPeerTrusted = trustedProxies !== undefined && isInBlockList(trustedProxies, peer)
    const caller = callerAddress(peer, request.headers['x-forwarded-for'] as string | undefined, trustedProxies)
    const integration = integrations.match(caller)
    const context: ProxyContext = {
      peer, caller, isPeerTrusted, integration, token: undefined, bodyLength: undefined, soapMethod: undefined, authPath: 'anonymous',
    }
    request.proxy = context
    if (integration === undefined) {
      if (config.unknownCallers === 'reject') {
        request.log.info({ caller }, 'unknown caller rejected')
        sendFault(reply, 'sessionInvalid')
      }
      return
    }
    if (integration.mode === 'passthrough' || integration.technicalAccount === undefined) {
      context.authPath = 'passthrough'
      return
    }
    context.authPath = 'network'
    try {
      context.token = await tokens.get(integration.technicalAccount)
      if (request.method === 'POST' && request.routeOptions.url !== undefined && pathOf(request.url) === SOAP_ROUTER_PATH) {
        const declared = request.headers['content-length'] === undefined ? undefined : Number(request.headers['content-length'])
        const rewritten = await rewriteRequestBody(request.body as IncomingMessage, declared, limits)
        request.body = rewritten.body
        context.bodyLength = rewritten.length
        context.soapMethod = rewritten.location.soapMethod
      }
    } catch (err) {
      if (err instanceof ProxyFault) {
        request.log.info({ integration: integration.name, fault: err.fault, detail: err.detail }, 'request refused by the proxy')
        sendFault(reply, err.fault, err.detail)
      } else if (isTokenUnavailable(err)) {
        request.log.warn({ err, integration: integration.name, account: integration.technicalAccount }, 'no IMS token for the request')
        reply.header('retry-after', String(Math.max(1, Math.ceil(err.retryAfterSeconds))))
        sendFault(reply, 'imsUnavailable')
      } else {
        throw err
      }
    }
  }

  await app.register(httpProxy, {
    upstream: config.campaign.url,
    undici: pool,
    preHandler,
    disableRequestLogging: true,
    replyOptions: {
      rewriteRequestHeaders: (request, headers) => {
        const context = request.proxy
        return upstreamHeaders(headers, {
          peer: context.peer,
          isPeerTrusted: context.isPeerTrusted,
          authorization: context.token === undefined ? undefined : `Bearer ${context.token.value}`,
          contentLength: context.bodyLength,
          contentType: request.headers['content-type'],
        })
      },
      onError: (reply, { error }) => {
        const cause = (error as { cause?: unknown }).cause
        const fault: ProxyFaultName = cause instanceof BodyTooLargeError || error instanceof BodyTooLargeError
          ? 'tooLarge'
          : (error as { statusCode?: number }).statusCode === 504 ? 'upstreamTimeout' : 'upstreamUnavailable'
        reply.request.log.warn({ err: error, fault }, 'upstream request failed')
        sendFault(reply, fault)
      },
    },
  })
}

function pathOf (url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

function isTokenUnavailable (err: unknown): err is TokenUnavailableError | ImsConfigurationError {
  return err instanceof TokenUnavailableError || err instanceof ImsConfigurationError
}
