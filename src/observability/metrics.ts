/**
 * Prometheus metrics (prom-client), one registry per running proxy. Label
 * values come from the configuration (integration and account names) or
 * from small fixed sets; a SOAP method name comes from the request, so the
 * set of method labels is capped (later ones are counted as `other`).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { LeastPrivilegeRefusal } from '../config/allow-list.js'

export const METRIC_PREFIX = 'campaign_ims_proxy_'
/** Distinct SOAP method label values kept; further methods are counted as `other`. */
export const MAX_METHOD_LABELS = 200
/** The `integration` label of callers that are no configured integration. */
export const UNKNOWN_INTEGRATION = '(unknown)'

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
const ADDED_LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]

export interface RequestObservation {
  /** The Campaign instance (a configured name: the label stays bounded), undefined when none was selected. */
  readonly campaign: string | undefined
  readonly integration: string | undefined
  readonly soapMethod: string | undefined
  readonly authPath: string
  /** HTTP status sent to the client. */
  readonly status: number
  /** Proxy fault code sent instead of Campaign's answer, if any. */
  readonly fault: string | undefined
  /** Seconds from request start to the end of the response. */
  readonly totalSeconds: number
  /** Seconds spent waiting for Campaign's answer headers (all attempts), undefined when not forwarded. */
  readonly upstreamSeconds: number | undefined
}

/**
 * Values of one request label set waiting to be handed to prom-client
 * (more than this many are handed on at once, so memory stays bounded
 * when nothing reads the metrics).
 */
export const MAX_PENDING_OBSERVATIONS = 4096

type RequestLabels = Record<'campaign' | 'integration' | 'soap_method' | 'auth_path' | 'status' | 'fault', string>

/** What the requests of one label set added since the metrics were last read. */
interface PendingRequests {
  readonly labels: RequestLabels
  count: number
  readonly upstreamSeconds: number[]
  readonly addedSeconds: number[]
}

export type LogonResult = 'success' | 'failure' | 'locked' | 'busy'
export type ReplayResult = 'replayed' | 'not_replayable' | 'no_token' | 'held_back'

export interface TokenStatusSource {
  status (): ReadonlyArray<{ readonly account: string, readonly expiresAt: number | undefined }>
}

export class ProxyMetrics {
  readonly registry = new Registry()
  readonly #requests: Counter<'campaign' | 'integration' | 'soap_method' | 'auth_path' | 'status' | 'fault'>
  readonly #upstreamDuration: Histogram<'campaign' | 'integration'>
  readonly #addedDuration: Histogram<'integration'>
  readonly #tokenRequests: Counter<'account' | 'result'>
  readonly #tokenFetchDuration: Histogram<'account'>
  readonly #invalidations: Counter<'account'>
  readonly #replays: Counter<'account' | 'result'>
  readonly #logons: Counter<'integration' | 'result'>
  readonly #passthrough: Counter<'integration'>
  readonly #concurrencyRejections: Counter<'integration'>
  readonly #queued: Gauge<'integration'>
  readonly #passwordChecks: Gauge<'state'>
  readonly #slowReaders: Counter<'integration'>
  readonly #refused: Counter<'integration' | 'reason'>
  readonly #storeUp: Gauge
  readonly #storeErrors: Counter<'operation'>
  readonly #storeEvents: Counter<'direction' | 'kind'>
  readonly #methods = new Set<string>()
  /**
   * The request metrics are counted here, per label set, and handed to
   * prom-client when the metrics are read (its collect hooks) or when a
   * label set has MAX_PENDING_OBSERVATIONS values waiting: a prom-client
   * update per call (labels validated and hashed for each metric) was
   * about 7 % of a small call's CPU under load, the same updates in one
   * loop a fraction of it. Label sets are bounded as the labels are.
   */
  readonly #pending = new Map<string, PendingRequests>()

  constructor (options: { readonly tokens: TokenStatusSource, readonly now?: () => number, readonly defaultMetrics?: boolean }) {
    const registers = [this.registry]
    const now = options.now ?? Date.now
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX })
    const flushPending = (): void => { this.#flushRequests() }
    this.#requests = new Counter({
      name: `${METRIC_PREFIX}requests_total`,
      help: 'Requests answered, by Campaign instance, integration, SOAP method, how the caller was identified, HTTP status and proxy fault code ("" when Campaign answered).',
      labelNames: ['campaign', 'integration', 'soap_method', 'auth_path', 'status', 'fault'],
      registers,
      collect: flushPending,
    })
    this.#upstreamDuration = new Histogram({
      name: `${METRIC_PREFIX}upstream_duration_seconds`,
      help: 'Time from sending a request to a Campaign instance until its response headers arrived (replays included).',
      labelNames: ['campaign', 'integration'],
      buckets: LATENCY_BUCKETS,
      registers,
      collect: flushPending,
    })
    this.#addedDuration = new Histogram({
      name: `${METRIC_PREFIX}added_duration_seconds`,
      help: 'Time the proxy added to a forwarded request: total time minus the time waiting for Campaign.',
      labelNames: ['integration'],
      buckets: ADDED_LATENCY_BUCKETS,
      registers,
      collect: flushPending,
    })
    this.#tokenRequests = new Counter({
      name: `${METRIC_PREFIX}token_requests_total`,
      help: 'IMS token requests by technical account and result (ok, network, http_5xx, http_429, http_unexpected, malformed, config).',
      labelNames: ['account', 'result'],
      registers,
    })
    this.#tokenFetchDuration = new Histogram({
      name: `${METRIC_PREFIX}token_fetch_duration_seconds`,
      help: 'Duration of IMS token requests.',
      labelNames: ['account'],
      buckets: LATENCY_BUCKETS,
      registers,
    })
    const tokens = options.tokens
    // eslint-disable-next-line no-new -- registered in the registry, read through it
    new Gauge({
      name: `${METRIC_PREFIX}token_expiry_seconds`,
      help: 'Seconds until the technical account\'s current IMS token expires (0 when it holds none).',
      labelNames: ['account'],
      registers,
      collect () {
        const at = now()
        for (const s of tokens.status()) this.set({ account: s.account }, s.expiresAt === undefined ? 0 : Math.max(0, (s.expiresAt - at) / 1000))
      },
    })
    this.#invalidations = new Counter({
      name: `${METRIC_PREFIX}token_invalidations_total`,
      help: 'IMS tokens dropped because Campaign rejected them (HTTP 401, XSV-350114 ... 401, XSV-350008 on a bearer request).',
      labelNames: ['account'],
      registers,
    })
    this.#replays = new Counter({
      name: `${METRIC_PREFIX}replays_total`,
      help: 'Requests Campaign rejected for their token: replayed with a new token, not replayable (body streamed), no new token, or held back (a token fetched because of a rejection was rejected again: Campaign\'s answer returned while the invalidation waits).',
      labelNames: ['account', 'result'],
      registers,
    })
    this.#logons = new Counter({
      name: `${METRIC_PREFIX}logons_total`,
      help: 'Logons and inline login/password checks answered by the proxy: success, failure (wrong password), locked (lockout) or busy (too many password checks waiting: 503).',
      labelNames: ['integration', 'result'],
      registers,
    })
    this.#passthrough = new Counter({
      name: `${METRIC_PREFIX}passthrough_requests_total`,
      help: 'Requests forwarded untouched with the caller\'s own (legacy) authentication: the migration-progress number.',
      labelNames: ['integration'],
      registers,
    })
    this.#slowReaders = new Counter({
      name: `${METRIC_PREFIX}slow_readers_total`,
      help: 'Streamed answers cut because the client read nothing for limits.responseIdleTimeoutSeconds (its upstream connection is released).',
      labelNames: ['integration'],
      registers,
    })
    this.#refused = new Counter({
      name: `${METRIC_PREFIX}refused_total`,
      help: 'Calls refused by an integration\'s least-privilege lists (reason "method": not in allowedMethods; "path": not in allowedPaths), answered 403 and never forwarded.',
      labelNames: ['integration', 'reason'],
      registers,
    })
    this.#storeUp = new Gauge({
      name: `${METRIC_PREFIX}store_up`,
      help: 'Whether the shared store (store.redis) answers: 1 yes, 0 no (each replica then keeps its own Logoffs, lockout and inventory). Absent without a store.',
      registers: [],
    })
    this.#storeErrors = new Counter({
      name: `${METRIC_PREFIX}store_errors_total`,
      help: 'Shared store operations that failed, by operation (publish: telling the other replicas; read: hearing from them; flush: inventory counts; report: the cluster inventory; outbox_full: an event dropped while the store was away).',
      labelNames: ['operation'],
      registers: [],
    })
    this.#storeEvents = new Counter({
      name: `${METRIC_PREFIX}store_events_total`,
      help: 'Events shared with the other replicas through the store, by direction (sent, received) and kind (revoked: a Logoff; failed, succeeded: a password check; remembered: a passthrough session).',
      labelNames: ['direction', 'kind'],
      registers: [],
    })
    this.#queued = new Gauge({
      name: `${METRIC_PREFIX}queued_requests`,
      help: 'Requests waiting for a concurrency slot, by integration ("(unidentified)": callers no integration is attributed to; "(process)": the process-wide limit).',
      labelNames: ['integration'],
      registers,
    })
    this.#passwordChecks = new Gauge({
      name: `${METRIC_PREFIX}password_checks`,
      help: 'Password checks (scrypt runs) in progress (state "running", at most limits.maxConcurrentPasswordChecks) and waiting for their turn ("queued").',
      labelNames: ['state'],
      registers,
    })
    this.#passwordChecks.set({ state: 'running' }, 0)
    this.#passwordChecks.set({ state: 'queued' }, 0)
    this.#concurrencyRejections = new Counter({
      name: `${METRIC_PREFIX}concurrency_rejections_total`,
      help: 'Requests refused with 503 because the integration (or the unidentified callers, or the process) had its concurrency limit in progress and its queue was full or the wait passed limits.queueTimeoutSeconds.',
      labelNames: ['integration'],
      registers,
    })
  }

  request (o: RequestObservation): void {
    const integration = o.integration ?? UNKNOWN_INTEGRATION
    const campaign = o.campaign ?? ''
    const soapMethod = this.#methodLabel(o.soapMethod)
    const status = String(o.status)
    const fault = o.fault ?? ''
    const key = `${campaign}\u0000${integration}\u0000${soapMethod}\u0000${o.authPath}\u0000${status}\u0000${fault}`
    let pending = this.#pending.get(key)
    if (pending === undefined) {
      pending = { labels: { campaign, integration, soap_method: soapMethod, auth_path: o.authPath, status, fault }, count: 0, upstreamSeconds: [], addedSeconds: [] }
      this.#pending.set(key, pending)
    }
    pending.count += 1
    if (o.upstreamSeconds !== undefined) {
      pending.upstreamSeconds.push(o.upstreamSeconds)
      pending.addedSeconds.push(Math.max(0, o.totalSeconds - o.upstreamSeconds))
      if (pending.upstreamSeconds.length >= MAX_PENDING_OBSERVATIONS) this.#handOn(pending)
    }
    if (o.authPath === 'passthrough') this.#passthrough.inc({ integration })
  }

  /** Request durations counted but not yet handed to prom-client (at most MAX_PENDING_OBSERVATIONS per label set). */
  get pendingObservations (): number {
    let waiting = 0
    for (const pending of this.#pending.values()) waiting += pending.upstreamSeconds.length
    return waiting
  }

  #flushRequests (): void {
    for (const pending of this.#pending.values()) this.#handOn(pending)
  }

  #handOn (pending: PendingRequests): void {
    const { labels } = pending
    if (pending.count > 0) this.#requests.inc(labels, pending.count)
    pending.count = 0
    if (pending.upstreamSeconds.length === 0) return
    const upstream = this.#upstreamDuration.labels({ campaign: labels.campaign, integration: labels.integration })
    for (const seconds of pending.upstreamSeconds) upstream.observe(seconds)
    const added = this.#addedDuration.labels({ integration: labels.integration })
    for (const seconds of pending.addedSeconds) added.observe(seconds)
    pending.upstreamSeconds.length = 0
    pending.addedSeconds.length = 0
  }

  tokenRequest (account: string, result: string, durationMs: number): void {
    this.#tokenRequests.inc({ account, result })
    this.#tokenFetchDuration.observe({ account }, durationMs / 1000)
  }

  invalidation (account: string): void {
    this.#invalidations.inc({ account })
  }

  replay (account: string, result: ReplayResult): void {
    this.#replays.inc({ account, result })
  }

  logon (integration: string, result: LogonResult): void {
    this.#logons.inc({ integration, result })
  }

  concurrencyRejection (integration: string): void {
    this.#concurrencyRejections.inc({ integration })
  }

  /** A streamed answer cut because its client stopped reading (limits.responseIdleTimeoutSeconds). */
  slowReader (integration: string | undefined): void {
    this.#slowReaders.inc({ integration: integration ?? UNKNOWN_INTEGRATION })
  }

  /** The shared store answers (1) or not (0); the store's metrics appear from the first call. */
  storeUp (isUp: boolean): void {
    this.#registerStore()
    this.#storeUp.set(isUp ? 1 : 0)
  }

  storeError (operation: string): void {
    this.#registerStore()
    this.#storeErrors.inc({ operation })
  }

  storeEvent (direction: 'sent' | 'received', kind: string): void {
    this.#registerStore()
    this.#storeEvents.inc({ direction, kind })
  }

  #storeRegistered = false
  #registerStore (): void {
    if (this.#storeRegistered) return
    this.#storeRegistered = true
    this.registry.registerMetric(this.#storeUp)
    this.registry.registerMetric(this.#storeErrors)
    this.registry.registerMetric(this.#storeEvents)
  }

  /** A call refused by `integration`'s allowedMethods or allowedPaths. */
  refused (integration: string, reason: LeastPrivilegeRefusal): void {
    this.#refused.inc({ integration, reason })
  }

  /** A request started (+1) or stopped (-1) waiting for a slot of `integration` ('(process)': the process-wide limit). */
  queued (integration: string, change: 1 | -1): void {
    this.#queued.inc({ integration }, change)
  }

  /** Password checks running and waiting now. */
  passwordChecks (running: number, queued: number): void {
    this.#passwordChecks.set({ state: 'running' }, running)
    this.#passwordChecks.set({ state: 'queued' }, queued)
  }

  async text (): Promise<string> {
    return await this.registry.metrics()
  }

  #methodLabel (method: string | undefined): string {
    if (method === undefined) return ''
    if (this.#methods.has(method)) return method
    if (this.#methods.size >= MAX_METHOD_LABELS) return 'other'
    this.#methods.add(method)
    return method
  }
}
