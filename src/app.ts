/**
 * buildApp(config): the proxy as a Fastify instance, pure wiring, no
 * listen(). Tests build it and drive it over HTTP.
 */
import { readFileSync } from 'node:fs'
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { readSecret } from './config/secret.js'
import type { Config, TlsConfig } from './config/types.js'
import type { Logger } from 'pino'
import type { Inventory } from './observability/inventory.js'
import type { ClusterEvent } from './store/cluster-events.js'
import { accessLogger } from './observability/logger.js'
import { requestLoggerFactory } from './observability/request-logger.js'
import type { ProxyMetrics } from './observability/metrics.js'
import { LISTENER_CAMPAIGN, type ListenerTagged } from './proxy/campaigns.js'
import { REQUEST_ID_HEADER, requestIdOf } from './proxy/headers.js'
import type { Lane } from './proxy/lane.js'
import { proxyPlugin, type ProxyControl, type TokenSource } from './proxy/plugin.js'
import { SOAP_CONTENT_TYPE } from './soap/envelope.js'
import { PROXY_FAULTS, proxyFaultBody } from './soap/faults.js'

/** How often the server looks for requests past limits.requestTimeoutSeconds or headersTimeoutSeconds. */
export const TIMEOUT_CHECK_INTERVAL_MS = 1000
/** The SOAP router lane of each app (proxy/lane.ts), filled when its plugin registers. */
const LANES = new WeakMap<FastifyInstance, { current?: Lane }>()

/** The part of a reply a fault needs (frameworkErrors' reply is typed for no route). */
interface FaultReply {
  code (status: number): { type (contentType: string): { send (body: string): unknown } }
}

export interface AppDependencies {
  readonly config: Config
  readonly tokens: TokenSource
  readonly logger: FastifyBaseLogger
  readonly metrics: ProxyMetrics
  readonly inventory: Inventory
  /** Receives the plugin's reconfigure function (reload). */
  readonly control: { current?: ProxyControl }
  /** Clock for sessions, lockouts and caches (tests inject one). */
  readonly now?: () => number
  /** Bound of each Campaign call made for a Logon's session info (tests shorten it). */
  readonly sessionInfoTimeoutMs?: number
  /** Tells the other replicas through the shared store (`store.redis`). */
  readonly publish?: (event: ClusterEvent) => void
}

export async function buildApp ({ config, tokens, logger, metrics, inventory, control, now, sessionInfoTimeoutMs, publish }: AppDependencies): Promise<FastifyInstance> {
  // Read once at start: proxy sessions are signed with it (a rotated file takes effect on reload or restart).
  const sessionSecret = await readSessionSecret(config)
  const lane: { current?: Lane } = {}
  const app = Fastify({
    // The server Fastify would make, with the SOAP router lane tried before Fastify's routing.
    serverFactory: (routing) => nodeServer(config, (request, response) => {
      if (lane.current?.(request, response) !== true) routing(request, response)
    }),
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: requestLoggerFactory,
    requestIdHeader: false,
    genReqId: requestIdOf,
    // Bodies are streamed to Campaign; the proxy enforces its own limit (limits.maxBodyBytes).
    bodyLimit: config.limits.maxBodyBytes,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreDuplicateSlashes: false },
    // A request Fastify cannot route (a malformed percent-encoding): a client fault, in the proxy's shape.
    frameworkErrors: (_error, request, reply) => {
      reply.header(REQUEST_ID_HEADER, request.id)
      const faultReply = reply as unknown as FaultReply
      faultReply.code(PROXY_FAULTS.badRequest.status).type(SOAP_CONTENT_TYPE).send(proxyFaultBody('badRequest', request.id))
    },
  }) as unknown as FastifyInstance
  LANES.set(app, lane)
  await app.register(proxyPlugin, { config, tokens, sessionSecret, metrics, inventory, accessLog: accessLogger(logger as Logger), control, lane, ...(now === undefined ? {} : { now }), ...(sessionInfoTimeoutMs === undefined ? {} : { sessionInfoTimeoutMs }), ...(publish === undefined ? {} : { publish }) })
  return app
}

/**
 * The own listener of Campaign instance `campaign` (`campaigns.<name>.listen`):
 * a Node server with the main listener's TLS and limits, handing every
 * request to `app`'s routing marked as for that instance. Not listening
 * yet; server.ts opens and closes it.
 */
export function instanceListener (app: FastifyInstance, config: Config, campaign: string): HttpServer | HttpsServer {
  const lane = LANES.get(app)
  return nodeServer(config, (request, response) => {
    (request as ListenerTagged)[LISTENER_CAMPAIGN] = campaign
    if (lane?.current?.(request, response) !== true) app.routing(request, response)
  })
}

/** A Node server with the listener's TLS (`listen.tls`), header size limit and timeouts (`limits`). */
function nodeServer (config: Config, handler: (request: IncomingMessage, response: ServerResponse) => void): HttpServer | HttpsServer {
  const { limits, listen: { tls } } = config
  const server = tls === undefined
    ? createHttpServer(serverOptions(limits), handler)
    : createHttpsServer({ ...readTlsFiles(tls), ...clientCertificateOptions(tls), ...serverOptions(limits) }, handler)
  server.keepAliveTimeout = limits.keepAliveTimeoutSeconds * 1000
  server.requestTimeout = limits.requestTimeoutSeconds * 1000
  server.headersTimeout = limits.headersTimeoutSeconds * 1000
  return server
}

/** The listener's key, certificate and client CA, read from their files (at start and on reload). */
export function readTlsFiles (tls: TlsConfig): { key: Buffer, cert: Buffer, ca?: Buffer } {
  return {
    key: readFileSync(tls.keyFile),
    cert: readFileSync(tls.certFile),
    ...(tls.caFile === undefined ? {} : { ca: readFileSync(tls.caFile) }),
  }
}

/** Node server options: the header size limit, and how often request and header timeouts are checked (Node's default is every 30 s). */
function serverOptions (limits: Config['limits']): { maxHeaderSize: number, connectionsCheckingInterval: number } {
  return { maxHeaderSize: limits.maxHeaderBytes, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS }
}

function clientCertificateOptions (tls: TlsConfig): { requestCert: boolean, rejectUnauthorized: boolean } {
  return { requestCert: tls.clientCertificates !== 'none', rejectUnauthorized: tls.clientCertificates === 'require' }
}

/** `sessions.secret`, read (undefined when not configured). */
export async function readSessionSecret (config: Config): Promise<string | undefined> {
  return config.sessions.secret === undefined ? undefined : await readSecret(config.sessions.secret)
}
