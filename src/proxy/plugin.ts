/**
 * The forwarding plugin: resolves who is calling (SPEC section 2), answers
 * Logon/Logoff of proxy sessions locally, gets the technical account's
 * token, rewrites the SOAP body, and hands the request to
 * @fastify/http-proxy (reply-from over an undici pool) with upstream
 * headers built deliberately. Async work happens in the preHandler and is
 * stored on `request.proxy`; reply-from's callbacks stay synchronous.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import httpProxy from '@fastify/http-proxy'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Pool } from 'undici'
import { splitInlineCredentials, VerifiedCredentialCache } from '../auth/inline-credentials.js'
import { LoginLockout } from '../auth/lockout.js'
import { blockListOf, callerAddress, isInBlockList, networkMatcher, normaliseAddress } from '../auth/networks.js'
import { verifyPassword } from '../auth/passwords.js'
import { SessionTokens, type SessionCheck } from '../auth/sessions.js'
import type { Config, IntegrationConfig } from '../config/types.js'
import { ImsConfigurationError, TokenUnavailableError } from '../ims/token-provider.js'
import { SOAP_CONTENT_TYPE } from '../soap/envelope.js'
import { PROXY_FAULTS, ProxyFault, proxyFaultBody, type ProxyFaultName } from '../soap/faults.js'
import { logoffResponse, logonResponse } from '../soap/logon-response.js'
import { BodyTooLargeError, credentialRanges, outgoingBody, readRequestBody, type ReadBody } from './body.js'
import { presentedCredentials } from './credentials.js'
import { upstreamHeaders } from './headers.js'
import { SessionInfoSource } from './session-info.js'
import type { BearerToken, TokenSource } from './token-source.js'

export type { BearerToken, TokenSource } from './token-source.js'
export const SOAP_ROUTER_PATH = '/nl/jsp/soaprouter.jsp'
/** Keep-alive of idle upstream connections; Campaign's load balancers close idle ones after about a minute. */
export const UPSTREAM_KEEP_ALIVE_MS = 30_000

/** How the caller was identified, for logs and the inventory. */
export type AuthPath = 'logon' | 'session' | 'inline-password' | 'network' | 'passthrough' | 'anonymous'

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
  authPath: AuthPath
}

declare module 'fastify' {
  interface FastifyRequest {
    proxy: ProxyContext
  }
}

/** The part of a Fastify reply a fault needs (any server type). */
interface FaultReply {
  readonly request: { readonly id: string }
  code (status: number): { type (contentType: string): { send (body: string): unknown } }
}

export interface ProxyPluginOptions {
  readonly config: Config
  readonly tokens: TokenSource
  /** `sessions.secret`, already read (undefined: no integration has a login; a random per-process key is used). */
  readonly sessionSecret: string | undefined
  readonly now?: () => number
}

/** A local answer instead of forwarding. */
class LocalAnswer {
  readonly status: number
  readonly body: string
  constructor (status: number, body: string) {
    this.status = status
    this.body = body
  }
}

export async function proxyPlugin (app: FastifyInstance, { config, tokens, sessionSecret, now = Date.now }: ProxyPluginOptions): Promise<void> {
  const byNetwork = networkMatcher(config.integrations.map(i => ({ networks: i.networks, value: i })))
  const byName = new Map(config.integrations.map(i => [i.name, i]))
  const imsByLogin = new Map(config.integrations.filter(i => i.mode === 'ims' && i.login !== undefined).map(i => [i.login as string, i]))
  const trustedProxies = config.trustedProxies.length === 0 ? undefined : blockListOf(config.trustedProxies)
  const limits = config.limits
  const sessions = new SessionTokens({ secret: sessionSecret ?? randomBytes(32), ttlSeconds: config.sessions.ttlSeconds, now })
  const lockout = new LoginLockout({ now })
  const verified = new VerifiedCredentialCache({ key: randomBytes(32), now })
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
  const sessionInfo = new SessionInfoSource({
    upstream: pool,
    tokens,
    sessionTimeoutSeconds: config.sessions.ttlSeconds,
    instanceName: new URL(config.campaign.url).hostname.split('.')[0] as string,
    logger: app.log,
    now,
  })

  app.decorateRequest('proxy', null as unknown as ProxyContext)

  const sendFault = (reply: FaultReply, fault: ProxyFaultName, detail?: string): void => {
    reply.code(PROXY_FAULTS[fault].status).type(SOAP_CONTENT_TYPE).send(proxyFaultBody(fault, reply.request.id, detail))
  }

  /** Verifies a password for an `ims` integration's login, with Campaign's lockout per login and address. */
  const checkPassword = async (integration: IntegrationConfig, login: string, password: string, caller: string): Promise<void> => {
    const hash = integration.passwordHash as string
    if (verified.has(login, password, hash)) return
    if (lockout.isLocked(login, caller).locked) throw new ProxyFault('invalidLogin', { detail: 'too many failed logons: try again later' })
    if (!await verifyPassword(password, hash)) {
      const { locked, failures } = lockout.recordFailure(login, caller)
      app.log.warn({ login, caller, failures, locked, integration: integration.name }, 'failed logon')
      throw new ProxyFault('invalidLogin')
    }
    lockout.recordSuccess(login, caller)
    verified.remember(login, password, hash)
  }

  /** The integration of a proxy session presented by the request; throws the session fault for a bad one. */
  const sessionIntegration = (check: SessionCheck): IntegrationConfig => {
    if (!check.ok) throw new ProxyFault('sessionInvalid', { detail: `proxy session ${check.reason}` })
    const integration = byName.get(check.session.integration)
    /* c8 ignore next -- reachable once a configuration reload removes an integration */
    if (integration === undefined) throw new ProxyFault('sessionInvalid', { detail: 'the session belongs to a removed integration' })
    return integration
  }

  /** Decides what to do with a request; returns the integration to authenticate as, or undefined to forward untouched. */
  const identify = async (request: FastifyRequest, context: ProxyContext, read: ReadBody | undefined): Promise<IntegrationConfig | undefined> => {
    const location = read?.location
    const credentials = presentedCredentials(request.headers, location)
    if (location?.soapMethod === 'xtk:session#Logon') {
      const login = location.params[1]?.text ?? ''
      const integration = imsByLogin.get(login)
      if (integration === undefined) return undefined
      context.integration = integration
      await checkPassword(integration, login, location.params[2]?.text ?? '', context.caller)
      const issued = sessions.issue(integration.name)
      const info = await sessionInfo.get(integration.technicalAccount as string, login)
      app.log.info({ integration: integration.name, caller: context.caller }, 'logon answered by the proxy')
      context.authPath = 'logon'
      throw new LocalAnswer(200, logonResponse(location.urn, issued.sessionToken, issued.securityToken, info))
    }
    const { sessionToken, securityToken } = credentials
    if (sessions.isProxyShaped(sessionToken) || (sessionToken === '' && sessions.isProxyShaped(securityToken))) {
      const check = sessionToken === '' ? sessions.verifySecurityToken(securityToken) : sessions.verify(sessionToken, securityToken)
      const integration = sessionIntegration(check)
      context.integration = integration
      context.authPath = 'session'
      if (location?.soapMethod === 'xtk:session#Logoff' && check.ok) {
        sessions.revoke(check.session)
        throw new LocalAnswer(200, logoffResponse(location.urn))
      }
      return integration
    }
    const inline = splitInlineCredentials(sessionToken)
    const inlineIntegration = inline === undefined ? undefined : imsByLogin.get(inline.login)
    if (inline !== undefined && inlineIntegration !== undefined) {
      context.integration = inlineIntegration
      await checkPassword(inlineIntegration, inline.login, inline.password, context.caller)
      context.authPath = 'inline-password'
      return inlineIntegration
    }
    const network = byNetwork.match(context.caller)
    if (network !== undefined) {
      context.authPath = network.mode === 'passthrough' ? 'passthrough' : 'network'
      return network.mode === 'passthrough' ? undefined : network
    }
    if (config.unknownCallers === 'reject') throw new ProxyFault('sessionInvalid', { detail: 'unknown caller' })
    return undefined
  }

  const preHandler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const peer = normaliseAddress(String(request.raw.socket.remoteAddress))
    const isPeerTrusted = trustedProxies !== undefined && isInBlockList(trustedProxies, peer)
    const caller = callerAddress(peer, request.headers['x-forwarded-for'] as string | undefined, trustedProxies)
    const context: ProxyContext = {
      peer, caller, isPeerTrusted, integration: undefined, token: undefined, bodyLength: undefined, soapMethod: undefined, authPath: 'anonymous',
    }
    request.proxy = context
    try {
      const isSoap = request.method === 'POST' && pathOf(request.url) === SOAP_ROUTER_PATH
      const declared = request.headers['content-length'] === undefined ? undefined : Number(request.headers['content-length'])
      const read = isSoap ? await readRequestBody(request.body as IncomingMessage, declared, limits) : undefined
      context.soapMethod = read?.location.soapMethod
      const integration = await identify(request, context, read)
      if (integration !== undefined) {
        context.integration = integration
        context.token = await tokens.get(integration.technicalAccount as string)
      }
      if (read !== undefined) {
        const out = outgoingBody(read, integration === undefined ? [] : credentialRanges(read.location), limits.maxBodyBytes)
        request.body = out.body
        context.bodyLength = out.length
      }
    } catch (err) {
      if (err instanceof LocalAnswer) {
        reply.code(err.status).type(SOAP_CONTENT_TYPE).send(err.body)
      } else if (err instanceof ProxyFault) {
        request.log.info({ integration: context.integration?.name, fault: err.fault, detail: err.detail }, 'request refused by the proxy')
        sendFault(reply, err.fault, err.detail)
      } else if (isTokenUnavailable(err)) {
        request.log.warn({ err, integration: context.integration?.name, account: context.integration?.technicalAccount }, 'no IMS token for the request')
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
