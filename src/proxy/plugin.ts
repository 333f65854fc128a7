/**
 * The forwarding plugin: resolves who is calling (SPEC section 2), answers
 * Logon/Logoff of proxy sessions locally, gets the technical account's
 * token, rewrites the SOAP body, and hands the request to
 * @fastify/http-proxy (reply-from over an undici pool) with upstream
 * headers built deliberately. Async work happens in the preHandler and is
 * stored on `request.proxy`; reply-from's header callback stays
 * synchronous. Campaign's answer is streamed back unchanged, except that a
 * small answer to a request carrying the proxy's bearer is read first: when
 * it says the token is not accepted, the token is invalidated and the
 * request replayed once with a new one (SPEC section 5).
 *
 * Everything derived from the configuration lives in one `Routing` value,
 * replaced as a whole by `ProxyControl.reconfigure` (reload without
 * restart); a request keeps the routing it started with.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import httpProxy from '@fastify/http-proxy'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { LRUCache } from 'lru-cache'
import { Pool } from 'undici'
import { CertificateMatcher, clientIdentity } from '../auth/client-certificates.js'
import { splitInlineCredentials, VerifiedCredentialCache } from '../auth/inline-credentials.js'
import { LoginLockout } from '../auth/lockout.js'
import { blockListOf, callerAddress, isInBlockList, networkMatcher, normaliseAddress } from '../auth/networks.js'
import { verifyPassword } from '../auth/passwords.js'
import { SessionTokens, type SessionCheck } from '../auth/sessions.js'
import type { Config, IntegrationConfig } from '../config/types.js'
import { ImsConfigurationError, TokenUnavailableError } from '../ims/token-provider.js'
import type { Inventory } from '../observability/inventory.js'
import type { ProxyMetrics } from '../observability/metrics.js'
import { SOAP_CONTENT_TYPE } from '../soap/envelope.js'
import { PROXY_FAULTS, ProxyFault, proxyFaultBody, type ProxyFaultName } from '../soap/faults.js'
import { logoffResponse, logonResponse } from '../soap/logon-response.js'
import { BodyTooLargeError, credentialRanges, outgoingBody, readRequestBody, type ReadBody } from './body.js'
import { presentedCredentials } from './credentials.js'
import { downstreamHeaders, upstreamHeaders } from './headers.js'
import { SessionInfoSource } from './session-info.js'
import { isTokenRejectionFault, logonResponseSessionToken, readResponseHead, RESPONSE_HEAD_BYTES } from './token-rejection.js'
import type { BearerToken, TokenSource } from './token-source.js'

export type { BearerToken, TokenSource } from './token-source.js'
export const SOAP_ROUTER_PATH = '/nl/jsp/soaprouter.jsp'
export const WSDL_PATH = '/nl/jsp/schemawsdl.jsp'
/** Keep-alive of idle upstream connections; Campaign's load balancers close idle ones after about a minute. */
export const UPSTREAM_KEEP_ALIVE_MS = 30_000
/**
 * A token younger than this is not invalidated when Campaign rejects it: a
 * Campaign refusing every token (a misconfigured instance) must not turn
 * each request into an IMS token request.
 */
export const MIN_TOKEN_AGE_FOR_INVALIDATION_MS = 1000
/** Session tokens Campaign issued to passthrough callers, remembered to attribute (and admit) their later calls. */
export const MAX_REMEMBERED_SESSIONS = 10_000
export const REMEMBERED_SESSION_TTL_MS = 24 * 3600 * 1000

/** How the caller was identified, for logs, metrics and the inventory. */
export type AuthPath = 'logon' | 'logoff' | 'session' | 'inline-password' | 'certificate' | 'network' | 'wsdl' | 'passthrough' | 'client-bearer' | 'anonymous'

export interface ProxyContext {
  /** The socket peer (the client, or a trusted proxy in front of it). */
  readonly peer: string
  /** The client's address, through trusted proxies. */
  readonly caller: string
  readonly isPeerTrusted: boolean
  readonly startedAt: number
  integration: IntegrationConfig | undefined
  /** Login seen in a Logon or an inline login/password that no `ims` integration has. */
  login: string | undefined
  token: BearerToken | undefined
  bodyLength: number | undefined
  soapMethod: string | undefined
  authPath: AuthPath
  /** Proxy fault answered instead of forwarding or instead of Campaign's answer. */
  fault: ProxyFaultName | undefined
  /** Campaign's status (last attempt), undefined when not forwarded or unanswered. */
  upstreamStatus: number | undefined
  upstreamStartedAt: number | undefined
  upstreamMs: number
  replays: number
  /** A passthrough Logon whose answer carries a session token to remember. */
  rememberLogon: boolean
  /** Counted against the integration's concurrency limit. */
  holdsSlot: boolean
  /** Metrics, inventory and access log done. */
  accounted: boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    proxy: ProxyContext
  }
}

/** The part of a Fastify reply a fault needs (any server type). */
interface FaultReply {
  readonly request: { readonly id: string, readonly proxy: ProxyContext | null }
  code (status: number): { type (contentType: string): { send (body: string): unknown } }
}

/** Replaces the configuration-derived state of a running proxy (reload). */
export interface ProxyControl {
  reconfigure (config: Config, sessionSecret: string | undefined): void
}

export interface ProxyPluginOptions {
  readonly config: Config
  readonly tokens: TokenSource
  /** `sessions.secret`, already read (undefined: no integration has a login; a random per-process key is used). */
  readonly sessionSecret: string | undefined
  readonly metrics: ProxyMetrics
  readonly inventory: Inventory
  /** Filled with the reconfigure function once the plugin is registered. */
  readonly control: { current?: ProxyControl }
  readonly now?: () => number
  /** Monotonic clock in ms for durations (default performance.now). */
  readonly clock?: () => number
}

/** Everything the request path derives from the configuration. */
interface Routing {
  readonly config: Config
  readonly sessionSecret: string | undefined
  readonly byNetwork: ReturnType<typeof networkMatcher<IntegrationConfig>>
  readonly byCertificate: CertificateMatcher<IntegrationConfig>
  readonly byName: ReadonlyMap<string, IntegrationConfig>
  readonly imsByLogin: ReadonlyMap<string, IntegrationConfig>
  readonly passthroughByLogin: ReadonlyMap<string, IntegrationConfig>
  readonly trustedProxies: ReturnType<typeof blockListOf> | undefined
  readonly sessions: SessionTokens
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

export async function proxyPlugin (app: FastifyInstance, options: ProxyPluginOptions): Promise<void> {
  const { tokens, metrics, inventory, now = Date.now, clock = () => performance.now() } = options
  const initial = options.config
  const routingOf = (config: Config, sessionSecret: string | undefined, previous?: Routing): Routing => ({
    config,
    sessionSecret,
    byNetwork: networkMatcher(config.integrations.map(i => ({ networks: i.networks, value: i }))),
    byCertificate: new CertificateMatcher(config.integrations.map(i => ({ certificates: i.clientCertificates, value: i }))),
    byName: new Map(config.integrations.map(i => [i.name, i])),
    imsByLogin: new Map(config.integrations.filter(i => i.mode === 'ims' && i.login !== undefined).map(i => [i.login as string, i])),
    passthroughByLogin: new Map(config.integrations.filter(i => i.mode === 'passthrough' && i.login !== undefined).map(i => [i.login as string, i])),
    trustedProxies: config.trustedProxies.length === 0 ? undefined : blockListOf(config.trustedProxies),
    // Same key and lifetime: keep the instance (and its Logoff revocations).
    sessions: previous !== undefined && previous.sessionSecret === sessionSecret && sessionSecret !== undefined && previous.config.sessions.ttlSeconds === config.sessions.ttlSeconds
      ? previous.sessions
      : new SessionTokens({ secret: sessionSecret ?? randomBytes(32), ttlSeconds: config.sessions.ttlSeconds, now }),
  })
  let routing = routingOf(initial, options.sessionSecret)
  options.control.current = {
    reconfigure: (config, sessionSecret) => {
      routing = routingOf(config, sessionSecret, routing)
      inventory.configure(config.integrations)
    },
  }
  const lockout = new LoginLockout({ now })
  const verified = new VerifiedCredentialCache({ key: randomBytes(32), now })
  const remembered = new LRUCache<string, { readonly integration: string | undefined, readonly login: string | undefined }>({
    max: MAX_REMEMBERED_SESSIONS, ttl: REMEMBERED_SESSION_TTL_MS, ttlResolution: 0, perf: { now },
  })
  const inFlight = new Map<string, number>()
  const campaignOrigin = new URL(initial.campaign.url).origin
  const pool = new Pool(initial.campaign.url, {
    connections: initial.campaign.maxConnections,
    keepAliveTimeout: UPSTREAM_KEEP_ALIVE_MS,
    headersTimeout: initial.campaign.timeoutSeconds * 1000,
    bodyTimeout: initial.campaign.timeoutSeconds * 1000,
    connect: {
      timeout: initial.campaign.connectTimeoutSeconds * 1000,
      rejectUnauthorized: true,
      ...(initial.campaign.caFile === undefined ? {} : { ca: readFileSync(initial.campaign.caFile) }),
    },
  })
  app.addHook('onClose', async () => { await pool.close() })
  const sessionInfo = new SessionInfoSource({
    upstream: pool,
    tokens,
    sessionTimeoutSeconds: initial.sessions.ttlSeconds,
    instanceName: new URL(initial.campaign.url).hostname.split('.')[0] as string,
    logger: app.log,
    now,
  })

  app.decorateRequest('proxy', null as unknown as ProxyContext)

  const sendFault = (reply: FaultReply, fault: ProxyFaultName, detail?: string): void => {
    const context = reply.request.proxy
    if (context !== null) context.fault = fault
    reply.code(PROXY_FAULTS[fault].status).type(SOAP_CONTENT_TYPE).send(proxyFaultBody(fault, reply.request.id, detail))
  }

  /** scrypt runs in flight, by verification-cache key: concurrent first calls with the same credentials share one. */
  const verifying = new Map<string, Promise<boolean>>()
  const verifyOnce = async (password: string, hash: string, key: string): Promise<boolean> => {
    let pending = verifying.get(key)
    if (pending === undefined) {
      pending = verifyPassword(password, hash).finally(() => { verifying.delete(key) })
      verifying.set(key, pending)
    }
    return await pending
  }

  /** Verifies a password for an `ims` integration's login, with Campaign's lockout per login and address. */
  const checkPassword = async (integration: IntegrationConfig, login: string, password: string, caller: string): Promise<void> => {
    const hash = integration.passwordHash as string
    const key = verified.cacheKey(login, password, hash)
    if (verified.hasKey(key)) return
    if (lockout.isLocked(login, caller).locked) {
      metrics.logon(integration.name, 'locked')
      throw new ProxyFault('invalidLogin', { detail: 'too many failed logons: try again later' })
    }
    if (!await verifyOnce(password, hash, key)) {
      const { locked, failures } = lockout.recordFailure(login, caller)
      metrics.logon(integration.name, 'failure')
      app.log.warn({ login, caller, failures, locked, integration: integration.name }, 'failed logon')
      throw new ProxyFault('invalidLogin')
    }
    metrics.logon(integration.name, 'success')
    lockout.recordSuccess(login, caller)
    verified.rememberKey(key)
  }

  /** The integration of a proxy session presented by the request; throws the session fault for a bad one. */
  const sessionIntegration = (r: Routing, check: SessionCheck): IntegrationConfig => {
    if (!check.ok) throw new ProxyFault('sessionInvalid', { detail: `proxy session ${check.reason}` })
    const integration = r.byName.get(check.session.integration)
    if (integration?.mode !== 'ims') throw new ProxyFault('sessionInvalid', { detail: 'the session belongs to an integration that is no longer configured' })
    return integration
  }

  /**
   * Decides what to do with a request: returns the technical account whose
   * token to inject, or undefined to forward untouched. Sets the context's
   * integration, login and auth path on the way.
   */
  const identify = async (r: Routing, request: FastifyRequest, context: ProxyContext, read: ReadBody | undefined): Promise<string | undefined> => {
    const location = read?.location
    const credentials = presentedCredentials(request.headers, location)
    if (location?.soapMethod === 'xtk:session#Logon') {
      const login = location.params[1]?.text ?? ''
      const integration = r.imsByLogin.get(login)
      if (integration !== undefined) {
        context.integration = integration
        context.authPath = 'logon'
        await checkPassword(integration, login, location.params[2]?.text ?? '', context.caller)
        const issued = r.sessions.issue(integration.name)
        const info = await sessionInfo.get(integration.technicalAccount as string, login)
        app.log.info({ integration: integration.name, caller: context.caller }, 'logon answered by the proxy')
        throw new LocalAnswer(200, logonResponse(location.urn, issued.sessionToken, issued.securityToken, info))
      }
      // A native Logon: forwarded untouched, its session token remembered to attribute the caller's next calls.
      context.login = login
      context.integration = r.passthroughByLogin.get(login)
      context.authPath = 'passthrough'
      context.rememberLogon = true
      if (context.integration === undefined && r.config.unknownCallers === 'reject') throw new ProxyFault('sessionInvalid', { detail: 'unknown caller' })
      return undefined
    }
    const { sessionToken, securityToken } = credentials
    if (r.sessions.isProxyShaped(sessionToken) || (sessionToken === '' && r.sessions.isProxyShaped(securityToken))) {
      context.authPath = location?.soapMethod === 'xtk:session#Logoff' ? 'logoff' : 'session'
      const check = sessionToken === '' ? r.sessions.verifySecurityToken(securityToken) : r.sessions.verify(sessionToken, securityToken)
      const integration = sessionIntegration(r, check)
      context.integration = integration
      if (context.authPath === 'logoff' && check.ok) {
        r.sessions.revoke(check.session)
        throw new LocalAnswer(200, logoffResponse((location as NonNullable<typeof location>).urn))
      }
      return integration.technicalAccount
    }
    const inline = splitInlineCredentials(sessionToken)
    if (inline !== undefined) {
      const integration = r.imsByLogin.get(inline.login)
      if (integration !== undefined) {
        context.integration = integration
        context.authPath = 'inline-password'
        await checkPassword(integration, inline.login, inline.password, context.caller)
        return integration.technicalAccount
      }
      context.login = inline.login
      context.integration = r.passthroughByLogin.get(inline.login)
    }
    const known = sessionToken === '' ? undefined : remembered.get(sessionToken)
    if (known !== undefined) {
      context.login = known.login
      context.integration ??= known.integration === undefined ? undefined : r.byName.get(known.integration)
    }
    const identity = context.integration === undefined && r.byCertificate.size > 0 ? clientIdentity(request.raw.socket) : undefined
    const certified = identity === undefined ? undefined : r.byCertificate.match(identity)
    if (certified?.mode === 'ims') {
      context.integration = certified
      context.authPath = 'certificate'
      return certified.technicalAccount
    }
    context.integration ??= certified
    if (context.integration === undefined) {
      const network = r.byNetwork.match(context.caller)
      if (network?.mode === 'ims') {
        context.integration = network
        context.authPath = 'network'
        return network.technicalAccount
      }
      context.integration = network
    }
    const authorization = request.headers.authorization
    context.authPath = sessionToken !== '' || securityToken !== '' ? 'passthrough' : /^bearer\s/i.test(authorization ?? '') ? 'client-bearer' : authorization === undefined ? 'anonymous' : 'passthrough'
    if (context.integration !== undefined) {
      // A configured passthrough integration: legacy authentication by definition.
      if (context.authPath === 'anonymous') context.authPath = 'passthrough'
      return undefined
    }
    const wsdlAccount = r.config.wsdl.technicalAccount
    if (wsdlAccount !== undefined && context.authPath === 'anonymous' && request.method === 'GET' && pathOf(request.url) === WSDL_PATH) {
      context.authPath = 'wsdl'
      return wsdlAccount
    }
    if (r.config.unknownCallers === 'reject') throw new ProxyFault('sessionInvalid', { detail: 'unknown caller' })
    return undefined
  }

  const preHandler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const r = routing
    const peer = normaliseAddress(String(request.raw.socket.remoteAddress))
    const isPeerTrusted = r.trustedProxies !== undefined && isInBlockList(r.trustedProxies, peer)
    const caller = callerAddress(peer, request.headers['x-forwarded-for'] as string | undefined, r.trustedProxies)
    const context: ProxyContext = {
      peer,
      caller,
      isPeerTrusted,
      startedAt: clock(),
      integration: undefined,
      login: undefined,
      token: undefined,
      bodyLength: undefined,
      soapMethod: undefined,
      authPath: 'anonymous',
      fault: undefined,
      upstreamStatus: undefined,
      upstreamStartedAt: undefined,
      upstreamMs: 0,
      replays: 0,
      rememberLogon: false,
      holdsSlot: false,
      accounted: false,
    }
    request.proxy = context
    try {
      const isSoap = request.method === 'POST' && pathOf(request.url) === SOAP_ROUTER_PATH
      const encoding = request.headers['content-encoding']
      if (isSoap && encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') throw new ProxyFault('contentEncoding', { detail: `Content-Encoding: ${encoding.slice(0, 32)}` })
      const declared = request.headers['content-length'] === undefined ? undefined : Number(request.headers['content-length'])
      const read = isSoap ? await readRequestBody(request.body as IncomingMessage, declared, r.config.limits) : undefined
      context.soapMethod = read?.location.soapMethod
      const account = await identify(r, request, context, read)
      const integration = context.integration
      if (integration !== undefined) {
        const active = inFlight.get(integration.name) ?? 0
        if (active >= r.config.limits.maxConcurrentRequests) {
          metrics.concurrencyRejection(integration.name)
          reply.header('retry-after', '1')
          throw new ProxyFault('tooManyRequests', { detail: `${active} requests of integration ${integration.name} in progress` })
        }
        inFlight.set(integration.name, active + 1)
        context.holdsSlot = true
        reply.raw.once('close', () => {
          const left = (inFlight.get(integration.name) as number) - 1
          if (left === 0) inFlight.delete(integration.name)
          else inFlight.set(integration.name, left)
        })
      }
      if (account !== undefined) context.token = await tokens.get(account)
      if (read !== undefined) {
        const out = outgoingBody(read, account === undefined ? [] : credentialRanges(read.location), r.config.limits.maxBodyBytes)
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
        request.log.warn({ err, integration: context.integration?.name, account: err.account }, 'no IMS token for the request')
        reply.header('retry-after', String(Math.max(1, Math.ceil(err.retryAfterSeconds))))
        sendFault(reply, 'imsUnavailable')
      } else {
        throw err
      }
    }
  }

  /** Campaign's answer: streamed on, or read (when small) to spot a rejected token or a Logon's session token. */
  const onUpstreamResponse = async (request: FastifyRequest, reply: FastifyReply, res: { statusCode: number, headers: Record<string, unknown>, stream: Readable }): Promise<void> => {
    const context = request.proxy
    context.upstreamMs += clock() - (context.upstreamStartedAt as number)
    context.upstreamStatus = res.statusCode
    const token = context.token
    const status = res.statusCode
    const isXml = String(res.headers['content-type'] ?? '').includes('xml')
    if (status === 200 && request.method === 'GET' && pathOf(request.url) === WSDL_PATH) {
      const wsdl = await readResponseHead(res.stream, RESPONSE_HEAD_BYTES * 16)
      if (wsdl.complete) {
        reply.removeHeader('content-length')
        reply.send(wsdlThroughProxy(wsdl.body, campaignOrigin, clientOrigin(request, context)))
        return
      }
      reply.send(wsdl.body)
      return
    }
    const inspect = status === 401 || (isXml && (status === 200 || status === 500))
    if ((token === undefined && !context.rememberLogon) || !inspect) {
      reply.send(res.stream)
      return
    }
    const declared = res.headers['content-length']
    const head = await readResponseHead(res.stream, RESPONSE_HEAD_BYTES, declared === undefined ? undefined : Number(declared))
    if (!head.complete) {
      reply.send(head.body)
      return
    }
    if (context.rememberLogon) {
      const sessionToken = status === 200 ? logonResponseSessionToken(head.body) : undefined
      if (sessionToken !== undefined) remembered.set(sessionToken, { integration: context.integration?.name, login: context.login })
      reply.send(head.body)
      return
    }
    const bearer = token as BearerToken
    if (status !== 401 && !isTokenRejectionFault(head.body)) {
      reply.send(head.body)
      return
    }
    const account = bearer.account
    if (now() - bearer.obtainedAt >= MIN_TOKEN_AGE_FOR_INVALIDATION_MS && tokens.invalidate(account, bearer)) {
      metrics.invalidation(account)
      request.log.warn({ account, fingerprint: bearer.fingerprint, status }, 'Campaign rejected the IMS token: invalidated')
    }
    // A kept (rewritten) body, or none at all (GET), can be sent again; a streamed one is gone.
    if (!(Buffer.isBuffer(request.body) || request.body == null) || context.replays > 0) {
      metrics.replay(account, 'not_replayable')
      reply.send(head.body)
      return
    }
    let fresh: BearerToken
    try {
      fresh = await tokens.get(account)
    } catch {
      metrics.replay(account, 'no_token')
      reply.send(head.body)
      return
    }
    if (fresh.value === bearer.value) {
      metrics.replay(account, 'no_token')
      reply.send(head.body)
      return
    }
    context.token = fresh
    context.replays += 1
    metrics.replay(account, 'replayed')
    for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name)
    const { url, options: replyOptions } = (reply as FastifyReply & { fromParameters (url: string, params: unknown, prefix: string): { url: string, options: object } })
      .fromParameters(request.url, request.params, '')
    reply.from(url, replyOptions)
  }

  /** Metrics, inventory and the access line, once per request: when its response ended, or when the client went away first. */
  const recordRequest = (request: FastifyRequest, status: number, bytesOut: unknown): void => {
    const context = request.proxy
    /* c8 ignore next -- requests refused before the preHandler (404 of a non-proxied method) have no context */
    if (context === null || context.accounted) return
    context.accounted = true
    const totalMs = clock() - context.startedAt
    const upstreamMs = context.upstreamStartedAt === undefined ? undefined : context.upstreamMs
    const integration = context.integration?.name
    metrics.request({
      integration,
      soapMethod: context.soapMethod,
      authPath: context.authPath,
      status,
      fault: faultCode(context.fault),
      totalSeconds: totalMs / 1000,
      upstreamSeconds: upstreamMs === undefined ? undefined : upstreamMs / 1000,
    })
    inventory.record({
      integration: context.integration,
      caller: context.caller,
      login: context.login,
      soapMethod: context.soapMethod,
      authPath: context.authPath,
      fault: faultCode(context.fault),
      status,
    })
    request.log.info({
      method: request.method,
      path: pathOf(request.url),
      caller: context.caller,
      integration,
      account: context.token?.account,
      tokenFingerprint: context.token?.fingerprint,
      soapMethod: context.soapMethod,
      authPath: context.authPath,
      status,
      upstreamStatus: context.upstreamStatus,
      fault: faultCode(context.fault),
      replays: context.replays,
      bytesIn: numberHeader(request.headers['content-length']),
      bytesOut: numberHeader(bytesOut),
      durationMs: round(totalMs),
      upstreamMs: upstreamMs === undefined ? undefined : round(upstreamMs),
    }, 'request')
  }
  app.addHook('onResponse', async (request, reply) => { recordRequest(request, reply.statusCode, reply.getHeader('content-length')) })
  // 499 (as nginx logs it): the client closed the connection before the answer.
  app.addHook('onRequestAbort', async (request) => { recordRequest(request, CLIENT_CLOSED_REQUEST, undefined) })

  await app.register(httpProxy, {
    upstream: initial.campaign.url,
    undici: pool,
    preHandler,
    disableRequestLogging: true,
    replyOptions: {
      rewriteRequestHeaders: (request, headers) => {
        const context = request.proxy
        context.upstreamStartedAt = clock()
        return upstreamHeaders(headers, {
          peer: context.peer,
          isPeerTrusted: context.isPeerTrusted,
          authorization: context.token === undefined ? undefined : `Bearer ${context.token.value}`,
          contentLength: context.bodyLength,
          contentType: request.headers['content-type'],
        })
      },
      rewriteHeaders: (headers) => downstreamHeaders(headers) as typeof headers,
      onResponse: (request, reply, res) => {
        onUpstreamResponse(request as unknown as FastifyRequest, reply as unknown as FastifyReply, res as unknown as { statusCode: number, headers: Record<string, unknown>, stream: Readable }).catch((err: unknown) => {
          request.log.warn({ err }, 'reading Campaign\'s answer failed')
          /* c8 ignore next -- the client is gone when nothing can be sent any more */
          if (reply.sent) return
          for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name)
          sendFault(reply as unknown as FaultReply, 'upstreamUnavailable')
        })
      },
      onError: (reply, { error }) => {
        const cause = (error as { cause?: unknown }).cause
        const fault: ProxyFaultName = cause instanceof BodyTooLargeError || error instanceof BodyTooLargeError
          ? 'tooLarge'
          : (error as { statusCode?: number }).statusCode === 504 ? 'upstreamTimeout' : 'upstreamUnavailable'
        reply.request.log.warn({ err: error, fault }, 'upstream request failed')
        sendFault(reply as unknown as FaultReply, fault)
      },
    },
  })
}

/** A Host header that can be written into a URL as is. */
const HOST = /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/

/** The origin the client used to reach the proxy (scheme and Host; X-Forwarded-Proto/-Host from trusted proxies), undefined when the Host is unusable. */
function clientOrigin (request: FastifyRequest, context: ProxyContext): string | undefined {
  const forwarded = (name: string): string | undefined => {
    const value = context.isPeerTrusted ? request.headers[name] : undefined
    return typeof value === 'string' ? value.split(',')[0]?.trim() : undefined
  }
  const host = forwarded('x-forwarded-host') ?? request.headers.host
  if (host === undefined || !HOST.test(host)) return undefined
  const proto = forwarded('x-forwarded-proto') ?? ((request.raw.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http')
  return `${proto === 'https' ? 'https' : 'http'}://${host}`
}

/**
 * A WSDL names Campaign's SOAP router as its endpoint (Campaign writes the
 * Host it was asked for: its own). Served through the proxy it must name
 * the proxy, or a WSDL-driven client would call Campaign directly.
 */
export function wsdlThroughProxy (wsdl: Buffer, campaignOrigin: string, proxyOrigin: string | undefined): Buffer {
  if (proxyOrigin === undefined) return wsdl
  const text = wsdl.toString('latin1')
  const endpoint = `${campaignOrigin}${SOAP_ROUTER_PATH}`
  return text.includes(endpoint) ? Buffer.from(text.split(endpoint).join(`${proxyOrigin}${SOAP_ROUTER_PATH}`), 'latin1') : wsdl
}

/** Status recorded for a request whose client went away before the answer. */
export const CLIENT_CLOSED_REQUEST = 499
/** The code a client sees in the fault string (`PRX-000010`, `XSV-350008`). */
function faultCode (fault: ProxyFaultName | undefined): string | undefined {
  return fault === undefined ? undefined : PROXY_FAULTS[fault].message.slice(0, 10)
}

function pathOf (url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

function numberHeader (value: unknown): number | undefined {
  const n = Number(value)
  return value === undefined || !Number.isFinite(n) ? undefined : n
}

function round (ms: number): number {
  return Math.round(ms * 1000) / 1000
}

function isTokenUnavailable (err: unknown): err is TokenUnavailableError | ImsConfigurationError {
  return err instanceof TokenUnavailableError || err instanceof ImsConfigurationError
}
