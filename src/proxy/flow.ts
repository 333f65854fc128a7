/**
 * The request flow (docs/architecture.md#request-flow): read and locate
 * the SOAP body, decide who is calling, verify a presented password,
 * answer Logon/Logoff locally, admit, get the token, rewrite, forward,
 * inspect Campaign's answer (replaying once with a new token when it
 * rejects the old one) and relay it. Every refusal is thrown and answered
 * by the error handler (errors.ts); nothing here knows HTTP status codes.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import type { FastifyBaseLogger } from 'fastify'
import { clientIdentity } from '../auth/client-certificates.js'
import type { IntegrationConfig } from '../config/types.js'
import { decideIdentity, SOAP_ROUTER_PATH, WSDL_PATH, type IdentityDecision, type PresentedPassword } from '../auth/identity.js'
import { querySessionTokens } from '../auth/credentials.js'
import { leastPrivilegeRefusal } from '../auth/least-privilege.js'
import { callerAddress, isInBlockList, normaliseAddress } from '../auth/networks.js'
import type { PasswordChecker } from '../auth/password-check.js'
import type { ProxySession } from '../auth/sessions.js'
import { checkDispatch } from '../soap/dispatch.js'
import { SOAP_CONTENT_TYPE } from '../soap/envelope.js'
import { ProxyFault } from '../soap/faults.js'
import { logoffResponse, logonResponse } from '../soap/logon-response.js'
import { integrationOf } from './accounting.js'
import type { Admission } from './admission.js'
import { credentialRanges, isKept, outgoingBody, readRequestBody, type KeptBody, type ReadBody } from './body.js'
import { newContext, type ProxyContext } from './context.js'
import { UpstreamError, type UpstreamHealth } from './errors.js'
import { forward, type UpstreamAnswer } from './forwarder.js'
import { downstreamHeaders, REQUEST_ID_HEADER, upstreamHeaders } from './headers.js'
import { clientOrigin, inspectionLimit, isTokenRejection, logonResponseSessionToken, wsdlThroughProxy, type Inspection } from './inspect.js'
import type { RejectionBudget } from './rejection-budget.js'
import type { CampaignRoutes, CampaignUpstream } from './campaigns.js'
import { accountOn, generationOf, type RememberedSessions, type Routing } from './routing.js'
import { canonicalPathOf } from './target.js'
import type { BearerToken, TokenSource } from './token-source.js'
import { boundedText } from '../observability/bounded.js'
import type { ProxyMetrics } from '../observability/metrics.js'

/** What the flow uses of a request: Fastify's, or the SOAP router lane's (lane.ts). */
export interface FlowRequest {
  readonly id: string
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly raw: IncomingMessage
  /** The request stream (the flow reads it), or undefined when Fastify saw no body. */
  readonly body: unknown
  readonly log: FastifyBaseLogger
  proxy: ProxyContext | null
}

/** What the flow uses of a reply. */
export interface FlowReply {
  readonly raw: ServerResponse
  code (status: number): FlowReply
  header (name: string, value: string): FlowReply
  headers (values: IncomingHttpHeaders): FlowReply
  type (contentType: string): FlowReply
  send (body: Buffer | string | Readable): FlowReply
}

export type FlowHandler = (request: FlowRequest, reply: FlowReply) => Promise<FlowReply>

export interface FlowDependencies {
  readonly routing: () => Routing
  /** The Campaign instances, and which one a request is for. */
  readonly campaigns: () => CampaignRoutes
  /** `listen.publicUrl`: when set, the origin every WSDL names, whatever the request's Host. */
  readonly publicOrigin: string | undefined
  readonly tokens: TokenSource
  readonly passwords: PasswordChecker
  readonly remembered: RememberedSessions
  /** A Logoff answered here (told to the other replicas when they share a store). */
  readonly onLogoff: ((session: ProxySession) => void) | undefined
  readonly admission: Admission
  readonly rejections: RejectionBudget
  readonly health: UpstreamHealth
  readonly metrics: ProxyMetrics
  readonly clock: () => number
}

export function requestFlow (deps: FlowDependencies): FlowHandler {
  const { tokens, metrics, clock } = deps

  const verify = async (presented: PresentedPassword, caller: string): Promise<void> => {
    const outcome = await deps.passwords.check(presented, caller)
    if (outcome === 'busy') throw new ProxyFault('overloaded', { detail: 'too many password checks waiting (limits.passwordCheckQueueDepth, limits.passwordCheckQueueDepthPerLogin)', retryAfterSeconds: 1 })
    // Locked and wrong get the same answer: nothing tells a caller that its guesses stopped being checked.
    if (outcome !== 'success') throw new ProxyFault('invalidLogin')
  }

  /** Logon and Logoff of proxy sessions, answered by the proxy. */
  const answerLocally = async (r: Routing, campaign: CampaignUpstream, decision: IdentityDecision & { kind: 'logon' | 'logoff' }, context: ProxyContext, request: FlowRequest, reply: FlowReply): Promise<FlowReply> => {
    if (decision.kind === 'logoff') {
      r.sessions.revoke(decision.session)
      deps.onLogoff?.(decision.session)
      return reply.code(200).header(REQUEST_ID_HEADER, request.id).type(SOAP_CONTENT_TYPE).send(logoffResponse(decision.urn))
    }
    await verify(decision.password, context.caller)
    const account = accountFor(decision.integration, campaign)
    // Not bound to the instance: the session is valid on every instance its integration may call.
    const issued = r.sessions.issue(decision.integration.name, generationOf(r.sessions, decision.integration))
    const info = await campaign.sessionInfo.get(account, decision.password.login)
    request.log.info({ integration: decision.integration.name, caller: context.caller }, 'logon answered by the proxy')
    return reply.code(200).header(REQUEST_ID_HEADER, request.id).type(SOAP_CONTENT_TYPE).send(logonResponse(decision.urn, issued.sessionToken, issued.securityToken, info))
  }

  /** The integration's account on `campaign`, or the session fault when it may not call that instance. */
  const accountFor = (integration: IntegrationConfig, campaign: CampaignUpstream): string => {
    const account = accountOn(integration, campaign.name)
    if (account === undefined) throw new ProxyFault('sessionInvalid', { detail: `integration ${integration.name} has no technical account for Campaign instance ${campaign.name}` })
    return account
  }

  /** Least privilege: a call outside the integration's lists is answered 403, never forwarded. */
  const refuseOutsideAllowLists = (integration: IntegrationConfig, path: string, read: ReadBody | undefined, context: ProxyContext): void => {
    const refusal = leastPrivilegeRefusal(integration, path, read?.location.soapMethod)
    if (refusal === undefined) return
    context.refused = refusal
    metrics.refused(integration.name, refusal)
    // Names from the request are bounded like every text the proxy repeats (a digest beyond).
    const detail = refusal === 'method'
      ? `integration ${integration.name} may not call ${String(context.soapMethod)}: it is not in its allowedMethods`
      : `integration ${integration.name} may not reach ${String(boundedText(path))}: it is not in its allowedPaths`
    throw new ProxyFault('forbidden', { detail })
  }

  /**
   * A session token in the query string (`?__sessiontoken=`) is neither
   * verified nor removed: a proxy session there would reach Campaign, and
   * next to the proxy's bearer a Campaign session could be what Campaign
   * acts on. Both are refused; a legacy call forwarded untouched keeps its own.
   */
  const refuseQuerySession = (decision: IdentityDecision, url: string, r: Routing): void => {
    const query = url.indexOf('?')
    if (query === -1) return
    const tokens = querySessionTokens(url.slice(query + 1))
    if (tokens.length === 0) return
    if (tokens.some(token => r.identity.isProxyShaped(token))) throw new ProxyFault('sessionInvalid', { detail: 'a proxy session in the query string (__sessiontoken) is not accepted: send it as the sessiontoken parameter, X-Session-Token or the __sessiontoken cookie' })
    if (decision.kind === 'inject') throw new ProxyFault('sessionInvalid', { detail: 'a Campaign session in the query string (__sessiontoken) is not sent together with the proxy token: remove it' })
  }

  return async function handle (request, reply) {
    const r = deps.routing()
    const socket = request.raw.socket
    const peer = normaliseAddress(String(socket.remoteAddress))
    const isPeerTrusted = r.trustedProxies !== undefined && isInBlockList(r.trustedProxies, peer)
    const context = newContext(peer, callerAddress(peer, request.headers['x-forwarded-for'] as string | undefined, r.trustedProxies), isPeerTrusted, clock())
    request.proxy = context
    const path = canonicalPathOf(request.url)
    if (path === undefined) throw new ProxyFault('badPath')
    const campaign = deps.campaigns().select(request.raw)
    if (campaign === undefined) throw new ProxyFault('misdirected')
    context.campaign = campaign.name
    const method = request.method
    let read: ReadBody | undefined
    if (method === 'POST' && path === SOAP_ROUTER_PATH) {
      const encoding = request.headers['content-encoding']
      if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') throw new ProxyFault('contentEncoding', { detail: `Content-Encoding: ${encoding.slice(0, 32)}` })
      const declared = request.headers['content-length']
      read = await readRequestBody(request.body as IncomingMessage, declared === undefined ? undefined : Number(declared), r.config.limits)
      const query = request.url.indexOf('?')
      checkDispatch(read.location, { soapAction: request.headers.soapaction, contentType: request.headers['content-type'], query: query === -1 ? '' : request.url.slice(query + 1) })
      context.soapMethod = boundedText(read.location.soapMethod)
    }
    const decision = decideIdentity({
      method,
      path,
      headers: request.headers,
      location: read?.location,
      caller: context.caller,
      certificate: r.identity.hasCertificates ? clientIdentity(socket) : undefined,
    }, r.identity)
    context.integration = decision.integration
    context.login = boundedText(decision.login)
    context.authPath = decision.authPath
    if (decision.kind === 'refuse') throw new ProxyFault(decision.fault, { detail: decision.detail })
    if (decision.kind === 'logon' || decision.kind === 'logoff') return await answerLocally(r, campaign, decision, context, request, reply)
    if (decision.kind === 'inject' && decision.password !== undefined) await verify(decision.password, context.caller)
    if (decision.integration !== undefined) refuseOutsideAllowLists(decision.integration, path, read, context)
    refuseQuerySession(decision, request.url, r)
    // An integration's account is the one it has on this instance; the anonymous WSDL's (no integration) is wsdl.technicalAccount.
    let account: string | undefined
    if (decision.kind === 'inject') account = decision.integration === undefined ? decision.account : accountFor(decision.integration, campaign)
    const admitted = deps.admission.enter(decision.integration?.name, r.config.limits, reply.raw)
    if (admitted !== undefined) await admitted
    if (account !== undefined) context.token = await tokens.get(account)
    let body: KeptBody | Readable | null = method === 'GET' || method === 'HEAD' ? null : (request.body as IncomingMessage | undefined) ?? null
    let bodyLength: number | undefined
    if (read !== undefined) {
      const out = outgoingBody(read, account === undefined ? [] : credentialRanges(read.location), r.config.limits.maxBodyBytes)
      body = out.body
      bodyLength = out.length
    }
    const inspection: Inspection = { method, path, hasBearer: account !== undefined, rememberLogon: decision.kind === 'forward' && decision.rememberLogon }
    let answer = await send(request, campaign, context, body, bodyLength, inspection)
    if (context.token !== undefined) {
      if (Buffer.isBuffer(answer.body) && isTokenRejection(answer.status, answer.body)) answer = await replay(request, campaign, context, context.token, body, bodyLength, inspection, answer)
      else deps.rejections.accepted(context.token.account)
    }
    return relay(request, reply, campaign, context, inspection, answer)
  }

  async function send (request: FlowRequest, campaign: CampaignUpstream, context: ProxyContext, body: KeptBody | Readable | null, bodyLength: number | undefined, inspection: Inspection): Promise<UpstreamAnswer> {
    const startedAt = clock()
    const spent = (): void => { context.upstreamMs = (context.upstreamMs ?? 0) + clock() - startedAt }
    const answer = await forward(context.token === undefined ? campaign.passthroughUpstream : campaign.upstream, {
      method: request.method,
      path: request.url,
      headers: upstreamHeaders(request.headers, {
        host: campaign.host,
        peer: context.peer,
        isPeerTrusted: context.isPeerTrusted,
        authorization: context.token === undefined ? undefined : `Bearer ${context.token.value}`,
        contentLength: bodyLength,
      }),
      body,
      collectUpTo: (status, headers) => inspectionLimit(inspection, status, headers),
      idleTimeoutMs: deps.routing().config.limits.responseIdleTimeoutSeconds * 1000,
      onIdle: () => {
        const integration = integrationOf(context)
        metrics.slowReader(integration)
        request.log.info({ integration }, 'the client stopped reading Campaign\'s answer: cut after limits.responseIdleTimeoutSeconds')
      },
    }).catch((err: unknown) => {
      spent()
      if (err instanceof UpstreamError) deps.health.failed(err)
      throw err
    })
    spent()
    context.upstreamStatus = answer.status
    deps.health.answered()
    return answer
  }

  /** Campaign rejected `bearer`: drop it (when it is still the current one), and send the request once more with a new one if its body was kept. */
  async function replay (request: FlowRequest, campaign: CampaignUpstream, context: ProxyContext, bearer: BearerToken, body: KeptBody | Readable | null, bodyLength: number | undefined, inspection: Inspection, rejected: UpstreamAnswer): Promise<UpstreamAnswer> {
    const account = bearer.account
    if (!deps.rejections.mayInvalidate(bearer)) {
      // A token fetched because of a rejection was rejected again: Campaign's answer as it is, until the budget's wait is over.
      metrics.replay(account, 'held_back')
      return rejected
    }
    const isInvalidated = tokens.invalidate(account, bearer)
    if (isInvalidated) {
      metrics.invalidation(account)
      request.log.warn({ account, fingerprint: bearer.fingerprint, status: rejected.status }, 'Campaign rejected the IMS token: invalidated')
    }
    // A kept (rewritten) body, or none at all (GET), can be sent again; a streamed one is gone.
    if (body !== null && !isKept(body)) {
      metrics.replay(account, 'not_replayable')
      return rejected
    }
    let fresh: BearerToken
    try {
      fresh = await tokens.get(account)
    } catch {
      metrics.replay(account, 'no_token')
      return rejected
    }
    /* c8 ignore next 4 -- IMS answering the very token Campaign rejected: replaying with it would be pointless */
    if (fresh.value === bearer.value) {
      metrics.replay(account, 'no_token')
      return rejected
    }
    if (isInvalidated) deps.rejections.fetchedOnRejection(fresh)
    context.token = fresh
    context.replays += 1
    metrics.replay(account, 'replayed')
    return await send(request, campaign, context, body, bodyLength, inspection)
  }

  function relay (request: FlowRequest, reply: FlowReply, campaign: CampaignUpstream, context: ProxyContext, inspection: Inspection, answer: UpstreamAnswer): FlowReply {
    const headers = downstreamHeaders(answer.headers)
    headers[REQUEST_ID_HEADER] = request.id
    let body = answer.body
    if (Buffer.isBuffer(body) && answer.status === 200) {
      if (inspection.rememberLogon) {
        const sessionToken = logonResponseSessionToken(body)
        if (sessionToken !== undefined) deps.remembered.set(sessionToken, { integration: context.integration?.name, login: context.login })
      } else if (inspection.method === 'GET' && inspection.path === WSDL_PATH) {
        const proxyOrigin = deps.publicOrigin ?? clientOrigin(request.headers, context.isPeerTrusted, (request.raw.socket as { encrypted?: boolean }).encrypted === true)
        body = wsdlThroughProxy(body, campaign.host, proxyOrigin)
        delete headers['content-length']
      }
    }
    return reply.code(answer.status).headers(headers).send(body)
  }
}
