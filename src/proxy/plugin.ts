/**
 * The forwarding plugin: wiring only (docs/architecture.md#layers). One
 * route takes every method and path to the request flow (flow.ts); one
 * error handler answers every refusal and failure as a Campaign-shaped
 * SOAP fault (errors.ts); accounting runs when the answer ends or the
 * client goes away (accounting.ts). Everything derived from the
 * configuration lives in one Routing value, replaced as a whole by
 * `ProxyControl.reconfigure` (reload without restart).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { PasswordChecker, type PasswordCheckSettings } from '../auth/password-check.js'
import { CampaignClient, campaignPool } from '../campaign/client.js'
import type { CampaignInstanceConfig, Config } from '../config/types.js'
import type { Inventory } from '../observability/inventory.js'
import type { AccessLog } from '../observability/logger.js'
import type { ApplyClusterEvent, ClusterEvent } from '../store/cluster-events.js'
import type { ProxyMetrics } from '../observability/metrics.js'
import { SOAP_CONTENT_TYPE } from '../soap/envelope.js'
import { PROXY_FAULTS, proxyFaultBody } from '../soap/faults.js'
import { accounting, CLIENT_CLOSED_REQUEST } from './accounting.js'
import { Admission } from './admission.js'
import { answerFor, UpstreamHealth } from './errors.js'
import { CampaignRoutes, upstreamSettings, type CampaignUpstream } from './campaigns.js'
import { requestFlow } from './flow.js'
import { REQUEST_ID_HEADER } from './headers.js'
import { soapRouterLane, type FaultAnswer, type Lane } from './lane.js'
import { RejectionBudget } from './rejection-budget.js'
import { rememberedSessions, routingOf } from './routing.js'
import { SESSION_INFO_TIMEOUT_MS, SessionInfoSource } from './session-info.js'
import type { TokenSource } from './token-source.js'

export type { BearerToken, TokenSource } from './token-source.js'
export type { ProxyContext } from './context.js'

/** The methods forwarded (TRACE is not; CONNECT is refused by Node itself, without an upgrade listener). */
const METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS']

/**
 * How long the pools of an instance a reload changed or removed stay open
 * for the requests that selected it before: longer than any Campaign call
 * (timeoutSeconds) plus its queueing.
 */
export const RETIRED_POOL_GRACE_MS = 10 * 60 * 1000

/** Replaces the configuration-derived state of a running proxy (reload). */
export interface ProxyControl {
  reconfigure (config: Config, sessionSecret: string | undefined): void
  /** Applies what another replica told through the shared store (a Logoff, a lockout outcome, a remembered session). */
  applyClusterEvent: ApplyClusterEvent
}

export interface ProxyPluginOptions {
  readonly config: Config
  readonly tokens: TokenSource
  /** `sessions.secret`, already read (undefined: no integration has a login; a random per-process key is used). */
  readonly sessionSecret: string | undefined
  readonly metrics: ProxyMetrics
  readonly inventory: Inventory
  /** Where access lines go (observability/logger.ts `accessLogger`). */
  readonly accessLog: AccessLog
  /** Filled with the reconfigure function once the plugin is registered. */
  readonly control: { current?: ProxyControl }
  /** Filled with the SOAP router lane (lane.ts), which the listeners try before Fastify's routing. */
  readonly lane: { current?: Lane }
  readonly now?: () => number
  /** Monotonic clock in ms for durations (default performance.now). */
  readonly clock?: () => number
  /** Limit of each Campaign call made for a Logon's session info (default SESSION_INFO_TIMEOUT_MS). */
  readonly sessionInfoTimeoutMs?: number
  /** Tells the other replicas (`store.redis`); undefined: this replica keeps its state to itself. */
  readonly publish?: (event: ClusterEvent) => void
}

export async function proxyPlugin (app: FastifyInstance, options: ProxyPluginOptions): Promise<void> {
  const { tokens, metrics, inventory, publish, now = Date.now, clock = () => performance.now() } = options
  const initial = options.config
  const remembered = rememberedSessions(now)
  if (publish !== undefined) remembered.onRemember = (digest, session) => { publish({ kind: 'remembered', digest, integration: session.integration, login: session.login, at: now() }) }
  let routing = routingOf(initial, options.sessionSecret, remembered, now)
  const passwords = new PasswordChecker({
    now,
    clock,
    settings: passwordCheckSettings(initial),
    onOutcome: (outcome, { integration, login }, caller, { failures, locked, loginLocked }) => {
      metrics.logon(integration.name, outcome)
      if (outcome === 'failure') app.log.warn({ login, caller, failures, locked, loginLocked, integration: integration.name }, 'failed logon')
      if (publish !== undefined && (outcome === 'failure' || outcome === 'success')) publish({ kind: outcome === 'failure' ? 'failed' : 'succeeded', login, address: caller, at: now() })
    },
    onGateChange: ({ running, queued }) => { metrics.passwordChecks(running, queued) },
  })
  options.control.current = {
    reconfigure: (config, sessionSecret) => {
      routing = routingOf(config, sessionSecret, remembered, now, routing)
      passwords.configure(passwordCheckSettings(config))
      inventory.configure(config.integrations)
      reconfigureCampaigns(config)
    },
    applyClusterEvent: (event) => {
      switch (event.kind) {
        case 'revoked': routing.sessions.revoke(event.session); break
        case 'failed': passwords.recordFailureElsewhere(event.login, event.address, event.at); break
        case 'succeeded': passwords.recordSuccessElsewhere(event.login, event.address); break
        case 'remembered': remembered.setElsewhere(event.digest, { integration: event.integration, login: event.login }, event.at); break
      }
    },
  }
  // One pair of pools and one session info source per instance; a reload rebuilds only the instances whose upstream settings changed.
  const buildInstance = (instance: CampaignInstanceConfig, unidentifiedConnections: number): CampaignUpstream => {
    const upstream = campaignPool(instance)
    return {
      name: instance.name,
      settings: upstreamSettings(instance, unidentifiedConnections),
      host: new URL(instance.url).host,
      upstream,
      passthroughUpstream: campaignPool(instance, unidentifiedConnections),
      sessionInfo: new SessionInfoSource({
        campaign: new CampaignClient(upstream, { timeoutMs: options.sessionInfoTimeoutMs ?? SESSION_INFO_TIMEOUT_MS }),
        tokens,
        sessionTimeoutSeconds: initial.sessions.ttlSeconds,
        instanceName: new URL(instance.url).hostname.split('.')[0] as string,
        logger: app.log,
        now,
      }),
    }
  }
  let campaigns = new CampaignRoutes(initial.campaigns, initial.defaultCampaign, instance => buildInstance(instance, initial.limits.unidentifiedConnections))
  /** Pools of instances a reload changed or removed: closed after RETIRED_POOL_GRACE_MS, or with the proxy. */
  const retired = new Set<CampaignUpstream>()
  const closeRetired = async (upstream: CampaignUpstream): Promise<void> => {
    retired.delete(upstream)
    // Never rejects: a pool that fails to close has nothing left to serve.
    await Promise.allSettled([upstream.upstream.close(), upstream.passthroughUpstream.close()])
  }
  const reconfigureCampaigns = (config: Config): void => {
    campaigns = campaigns.rebuilt(config.campaigns, config.defaultCampaign,
      instance => buildInstance(instance, config.limits.unidentifiedConnections),
      instance => upstreamSettings(instance, config.limits.unidentifiedConnections),
      unused => {
        retired.add(unused)
        setTimeout(closeRetired, RETIRED_POOL_GRACE_MS, unused).unref()
      })
  }
  app.addHook('onClose', async () => { await Promise.all([campaigns.close(), ...[...retired].map(closeRetired)]) })
  const handle = requestFlow({
    routing: () => routing,
    campaigns: () => campaigns,
    // listen is not reloadable (server.ts RESTART_ONLY_KEYS).
    publicOrigin: initial.listen.publicUrl,
    tokens,
    passwords,
    remembered,
    onLogoff: publish === undefined ? undefined : session => { publish({ kind: 'revoked', session }) },
    admission: new Admission(metrics),
    rejections: new RejectionBudget(now),
    health: new UpstreamHealth(app.log),
    metrics,
    clock,
  })

  app.decorateRequest('proxy', null)
  // Bodies are the flow's to read (or stream on): the raw request stream, whatever the content type.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, payload, done) => { done(null, payload) })
  const answerFault: FaultAnswer = (err, request, reply) => {
    const answer = answerFor(err)
    const context = request.proxy
    request.log[answer.level]({ ...(answer.level === 'error' ? { err } : {}), integration: context?.integration?.name, fault: answer.fault, detail: answer.detail }, answer.message)
    if (context !== null) context.fault = answer.fault
    reply.header(REQUEST_ID_HEADER, request.id)
    if (answer.retryAfterSeconds !== undefined) reply.header('retry-after', String(answer.retryAfterSeconds))
    reply.code(PROXY_FAULTS[answer.fault].status).type(SOAP_CONTENT_TYPE).send(proxyFaultBody(answer.fault, request.id, answer.detail))
  }
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    answerFault(err, request, reply)
    return reply
  })
  const record = accounting(metrics, inventory, options.accessLog, clock)
  app.addHook('onResponse', (request, reply, done) => {
    record(request, reply.statusCode, reply.getHeader('content-length'))
    done()
  })
  app.addHook('onRequestAbort', (request, done) => {
    record(request, CLIENT_CLOSED_REQUEST, undefined)
    done()
  })
  let isClosing = false
  app.addHook('preClose', (done) => { isClosing = true; done() })
  options.lane.current = soapRouterLane({ handle, fault: answerFault, record, log: app.log, isClosing: () => isClosing })
  app.route({ method: METHODS, url: '/', handler: handle })
  app.route({ method: METHODS, url: '/*', handler: handle })
}

/** The lockout and the scrypt gate from the configuration (`lockout`, `limits.*PasswordCheck*`). */
function passwordCheckSettings (config: Config): PasswordCheckSettings {
  const { limits, lockout } = config
  return {
    lockout,
    gate: { maxConcurrent: limits.maxConcurrentPasswordChecks, queueDepth: limits.passwordCheckQueueDepth, queueDepthPerLogin: limits.passwordCheckQueueDepthPerLogin },
  }
}
