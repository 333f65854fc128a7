/**
 * IMS token provider (docs/architecture.md#token-lifecycle): one token per technical account,
 * fetched at start-up, refreshed in the background before it expires,
 * single flight per account, capped exponential backoff on every failure.
 *
 * Tokens live in an lru-cache keyed by account and a hash of the client id
 * and secret, so a token obtained with a rotated-out secret is never taken
 * for one of the new secret. The cache is a plain bounded store here: the
 * provider does its own single flight and scheduling, because the key is only
 * known once the secret has been read, and backoff must hold between calls.
 */
import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { readSecret as readSecretSource } from '../config/secret.js'
import { errorCode } from '../observability/bounded.js'
import type { ImsConfig, SecretSource, TechnicalAccountConfig } from '../config/types.js'
import { ImsConfigurationError, SECRET_UNREADABLE, TokenUnavailableError } from './errors.js'
import { backoffDelayMs, refreshAt } from './schedule.js'
import { interpretTokenResponse, type TokenRequestOutcome } from './token-response.js'
import { createUndiciTransport, type RequestToken, type TokenTransport } from './transport.js'

export { ImsConfigurationError, TokenUnavailableError } from './errors.js'
export type { TokenRequestOutcome } from './token-response.js'
export type { RequestToken, TokenRequest, TokenResponseLike } from './transport.js'

/** Hex characters of sha256(token) shown in logs and status: identifies a token, reveals nothing usable. */
export const FINGERPRINT_LENGTH = 12
/** Hex characters of sha256(clientId NUL secret) in the cache key. */
export const SECRET_HASH_LENGTH = 16
/** Longest delay handed to setTimeout (larger ones fire at once in Node). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1

export interface AccessToken {
  readonly value: string
  readonly account: string
  /** When the token was received (ms epoch). */
  readonly obtainedAt: number
  /** When IMS stops accepting it (ms epoch). */
  readonly expiresAt: number
  /** Short sha256 prefix of the value, safe to log. */
  readonly fingerprint: string
}

/** The pino-compatible subset the provider logs with: object first, then message. */
export interface TokenLogger {
  info (obj: object, msg: string): void
  warn (obj: object, msg: string): void
  error (obj: object, msg: string): void
  debug (obj: object, msg: string): void
}

export interface Timers {
  setTimeout (fn: () => void, ms: number): unknown
  clearTimeout (handle: unknown): void
}

export interface TokenRequestEvent {
  readonly account: string
  readonly outcome: TokenRequestOutcome
  readonly durationMs: number
}

export interface TokenProviderOptions {
  readonly ims: ImsConfig
  readonly accounts: readonly TechnicalAccountConfig[]
  readonly logger: TokenLogger
  /** Clock in ms (default `Date.now`). */
  readonly now?: () => number
  /** Jitter source in [0, 1) (default `Math.random`). */
  readonly random?: () => number
  /** Scheduler (default: real timers, unref'd so they never hold the process open). */
  readonly timers?: Timers
  /** Transport (default: undici with verified TLS, `ims.caFile`, and `ims.timeoutSeconds` timeouts). */
  readonly requestToken?: RequestToken
  /** Secret reader (default: re-reads file secrets on every call). */
  readonly readSecret?: (source: SecretSource) => Promise<string>
  /** Called once per token request that ends (not for requests cut short by `close()`), for metrics. */
  readonly onTokenRequest?: (event: TokenRequestEvent) => void
}

export interface AccountStatus {
  readonly account: string
  /** Holds a token valid for at least the expiry skew. */
  readonly hasToken: boolean
  readonly expiresAt: number | undefined
  readonly fingerprint: string | undefined
  /** Why the last token request failed, in the proxy's words: an IMS error code and HTTP status at most, never IMS's text. */
  readonly lastError: string | undefined
  readonly consecutiveFailures: number
  /** When the next token request is scheduled (refresh or retry), ms epoch. */
  readonly nextAttemptAt: number | undefined
  readonly isFetching: boolean
}

interface Waiter {
  readonly deadline: number
  readonly resolve: (token: AccessToken) => void
  readonly reject: (err: Error) => void
  timer: unknown
}

interface AccountState {
  readonly config: TechnicalAccountConfig
  /** Cache key (account + credential hash) of the last token obtained; its entry is gone once invalidated. */
  key: string | undefined
  /** The in-flight token request (single flight). */
  attempt: AbortController | undefined
  timer: unknown
  nextAttemptAt: number | undefined
  consecutiveFailures: number
  lastFailure: Error | undefined
  /** Configuration errors already logged at error level since the last success. */
  readonly loggedConfigErrors: Set<string>
  readonly waiters: Set<Waiter>
}

type AttemptResult =
  | { readonly ok: true, readonly token: AccessToken, readonly key: string }
  | { readonly ok: false, readonly outcome: Exclude<TokenRequestOutcome, 'ok'>, readonly error: Error, readonly retryAfterMs: number | undefined }

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => { clearTimeout(handle as NodeJS.Timeout) },
}

function noop (): void {}

/** sha256 prefix of a token value: what logs and status show instead of the token. */
export function tokenFingerprint (value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, FINGERPRINT_LENGTH)
}

/** `account:hash(clientId NUL secret)`: a new secret gets a new key. */
export function tokenCacheKey (account: string, clientId: string, secret: string): string {
  return `${account}:${createHash('sha256').update(`${clientId}\0${secret}`).digest('hex').slice(0, SECRET_HASH_LENGTH)}`
}

export class TokenProvider {
  readonly #ims: ImsConfig
  readonly #logger: TokenLogger
  readonly #now: () => number
  readonly #random: () => number
  readonly #timers: Timers
  readonly #requestToken: RequestToken
  readonly #transport: TokenTransport | undefined
  readonly #readSecret: (source: SecretSource) => Promise<string>
  readonly #onTokenRequest: (event: TokenRequestEvent) => void
  readonly #states = new Map<string, AccountState>()
  readonly #cache: LRUCache<string, AccessToken>
  readonly #timeoutMs: number
  readonly #skewMs: number
  #isClosed = false

  constructor (options: TokenProviderOptions) {
    this.#ims = options.ims
    this.#logger = options.logger
    this.#now = options.now ?? Date.now
    this.#random = options.random ?? Math.random
    this.#timers = options.timers ?? realTimers
    this.#transport = options.requestToken === undefined ? createUndiciTransport(options.ims) : undefined
    this.#requestToken = options.requestToken ?? (this.#transport as TokenTransport).requestToken
    this.#readSecret = options.readSecret ?? readSecretSource
    this.#onTokenRequest = options.onTokenRequest ?? noop
    this.#timeoutMs = options.ims.timeoutSeconds * 1000
    this.#skewMs = options.ims.expirySkewSeconds * 1000
    for (const config of options.accounts) {
      if (this.#states.has(config.name)) throw new Error(`technical account "${config.name}" is listed twice`)
      this.#states.set(config.name, {
        config,
        key: undefined,
        attempt: undefined,
        timer: undefined,
        nextAttemptAt: undefined,
        consecutiveFailures: 0,
        lastFailure: undefined,
        loggedConfigErrors: new Set(),
        waiters: new Set(),
      })
    }
    // Room for one token per account plus one being replaced; nothing is ever evicted in practice.
    this.#cache = new LRUCache({ max: Math.max(1, this.#states.size) * 2 })
  }

  /** Requests a token for every account now (readiness waits for them). Never throws. */
  start (): void {
    for (const state of this.#states.values()) {
      if (this.#validToken(state) === undefined) this.#startAttempt(state, 'start')
    }
  }

  /** Hot path, synchronous: the account's token if valid until at least now + expiry skew; undefined otherwise. */
  current (account: string): AccessToken | undefined {
    const state = this.#states.get(account)
    return state === undefined ? undefined : this.#validToken(state)
  }

  /**
   * The valid token, or the result of the in-flight or next token request if
   * it comes within `waitMs` (default `ims.timeoutSeconds`). Any number of
   * concurrent callers cause at most one token request per account. Rejects
   * with TokenUnavailableError or ImsConfigurationError, both carrying
   * `retryAfterSeconds`.
   */
  async get (account: string, options: { readonly waitMs?: number } = {}): Promise<AccessToken> {
    const state = this.#states.get(account)
    if (state === undefined) throw new Error(`unknown technical account "${account}"`)
    const token = this.#validToken(state)
    if (token !== undefined) return token
    if (this.#isClosed) throw new TokenUnavailableError(account, 1, 'the token provider is closed')
    const now = this.#now()
    const deadline = now + (options.waitMs ?? this.#timeoutMs)
    if (state.attempt === undefined) {
      if (state.nextAttemptAt === undefined || state.nextAttemptAt <= now) {
        this.#startAttempt(state, 'get')
      } else if (state.nextAttemptAt > deadline) {
        throw this.#unavailableError(state)
      }
    }
    return new Promise<AccessToken>((resolve, reject) => {
      const waiter: Waiter = { deadline, resolve, reject, timer: undefined }
      waiter.timer = this.#timers.setTimeout(() => {
        state.waiters.delete(waiter)
        reject(this.#unavailableError(state))
      }, deadline - now)
      state.waiters.add(waiter)
    })
  }

  /**
   * Compare-and-invalidate, for when Campaign rejects `token`: drops it only if
   * it is still the account's current token (a newer one from a concurrent
   * refresh is kept), then requests a new one (single flight). Returns whether
   * it dropped it.
   */
  invalidate (account: string, token: Pick<AccessToken, 'value' | 'fingerprint'>): boolean {
    const state = this.#states.get(account)
    if (state === undefined || state.key === undefined) return false
    const held = this.#cache.get(state.key)
    if (held?.value !== token.value) return false
    // The key stays: it names the credential last used, so the next token can tell whether the secret changed.
    this.#cache.delete(state.key)
    this.#logger.info({ account, fingerprint: token.fingerprint }, 'IMS token invalidated')
    this.#startAttempt(state, 'invalidate')
    return true
  }

  /** Every account holds a valid token. */
  isReady (): boolean {
    for (const state of this.#states.values()) {
      if (this.#validToken(state) === undefined) return false
    }
    return true
  }

  /** Per-account state for /readyz and metrics; no secret, no token value, no text from IMS. */
  status (): readonly AccountStatus[] {
    return [...this.#states.values()].map(state => {
      const token = this.#validToken(state)
      return {
        account: state.config.name,
        hasToken: token !== undefined,
        expiresAt: token?.expiresAt,
        fingerprint: token?.fingerprint,
        lastError: state.lastFailure?.message,
        consecutiveFailures: state.consecutiveFailures,
        nextAttemptAt: state.nextAttemptAt,
        isFetching: state.attempt !== undefined,
      }
    })
  }

  /** Cancels every timer, aborts in-flight requests, fails waiting callers. Idempotent. */
  close (): void {
    if (this.#isClosed) return
    this.#isClosed = true
    for (const state of this.#states.values()) {
      this.#clearTimer(state)
      state.nextAttemptAt = undefined
      state.attempt?.abort(new Error('token provider closed'))
      state.attempt = undefined
      for (const waiter of state.waiters) {
        this.#timers.clearTimeout(waiter.timer)
        waiter.reject(new TokenUnavailableError(state.config.name, 1, 'the token provider is closed'))
      }
      state.waiters.clear()
    }
    this.#transport?.close().catch(noop)
  }

  #validToken (state: AccountState): AccessToken | undefined {
    const token = state.key === undefined ? undefined : this.#cache.get(state.key)
    if (token === undefined || token.expiresAt - this.#skewMs < this.#now()) return undefined
    return token
  }

  #startAttempt (state: AccountState, reason: 'start' | 'get' | 'refresh' | 'retry' | 'invalidate'): void {
    if (this.#isClosed || state.attempt !== undefined) return
    this.#clearTimer(state)
    state.nextAttemptAt = undefined
    const controller = new AbortController()
    state.attempt = controller
    this.#logger.debug({ account: state.config.name, reason }, 'IMS token request')
    // Never rejects: every outcome is handled inside.
    this.#runAttempt(state, controller)
  }

  async #runAttempt (state: AccountState, controller: AbortController): Promise<void> {
    const startedAt = this.#now()
    const timeout = this.#timers.setTimeout(() => {
      controller.abort(new Error(`the token request did not complete within ${this.#ims.timeoutSeconds} s`))
    }, this.#timeoutMs)
    // The race makes the timeout final even with a transport that ignores its signal.
    const result = await Promise.race([this.#attempt(state, controller.signal), abortedResult(controller.signal)])
    this.#timers.clearTimeout(timeout)
    if (this.#isClosed) return
    state.attempt = undefined
    const event: TokenRequestEvent = { account: state.config.name, outcome: result.ok ? 'ok' : result.outcome, durationMs: this.#now() - startedAt }
    if (result.ok) this.#succeed(state, result.token, result.key)
    else this.#fail(state, result)
    try {
      this.#onTokenRequest(event)
    } catch (err) {
      this.#logger.warn({ err, account: event.account }, 'onTokenRequest hook failed')
    }
  }

  async #attempt (state: AccountState, signal: AbortSignal): Promise<AttemptResult> {
    const { name: account, clientId, clientSecret, scopes } = state.config
    let secret: string
    try {
      secret = await this.#readSecret(clientSecret)
    } catch (err) {
      // readSecret's messages name the file and the errno, never the content.
      const description = err instanceof Error ? err.message : 'the secret could not be read'
      return { ok: false, outcome: 'config', error: this.#configError(state, SECRET_UNREADABLE, description), retryAfterMs: undefined }
    }
    // Aborted while reading the secret (timeout or close): send nothing.
    if (signal.aborted) return abortedBy(signal)
    let status: number
    let retryAfter: string | null
    let body: string
    try {
      const response = await this.#requestToken({ tokenUrl: this.#ims.tokenUrl, clientId, clientSecret: secret, scopes, signal })
      status = response.status
      retryAfter = response.headers.get('retry-after')
      body = await response.text()
    } catch (err) {
      // An abort (timeout, close) already settled the attempt through the race: this result is then unused.
      return transportFailure(err)
    }
    const receivedAt = this.#now()
    const answer = interpretTokenResponse({ status, retryAfter, body, receivedAt })
    if (!answer.ok) {
      const error = answer.outcome === 'config'
        ? this.#configError(state, answer.imsError as string, `HTTP ${status}`)
        : new Error(answer.message)
      return { ok: false, outcome: answer.outcome, error, retryAfterMs: answer.retryAfterMs }
    }
    if (answer.expiresAt - this.#skewMs < receivedAt) {
      return { ok: false, outcome: 'malformed', error: new Error('IMS returned a token that expires within the expiry skew'), retryAfterMs: undefined }
    }
    const token: AccessToken = {
      value: answer.accessToken,
      account,
      obtainedAt: receivedAt,
      expiresAt: answer.expiresAt,
      fingerprint: tokenFingerprint(answer.accessToken),
    }
    return { ok: true, token, key: tokenCacheKey(account, clientId, secret) }
  }

  #configError (state: AccountState, imsError: string, detail: string): ImsConfigurationError {
    return new ImsConfigurationError({ account: state.config.name, imsError, detail, retryAfterSeconds: this.#ims.backoff.maxSeconds })
  }

  #succeed (state: AccountState, token: AccessToken, key: string): void {
    const previousKey = state.key
    this.#cache.set(key, token)
    if (previousKey !== undefined && previousKey !== key) this.#cache.delete(previousKey)
    state.key = key
    state.consecutiveFailures = 0
    state.lastFailure = undefined
    state.loggedConfigErrors.clear()
    const at = refreshAt({ obtainedAt: token.obtainedAt, expiresAt: token.expiresAt, refreshRatio: this.#ims.refreshRatio, expirySkewMs: this.#skewMs }, this.#random)
    this.#schedule(state, at, 'refresh')
    this.#logger.info({
      account: token.account,
      fingerprint: token.fingerprint,
      expiresAt: new Date(token.expiresAt).toISOString(),
      refreshAt: new Date(at).toISOString(),
      isNewSecret: previousKey !== undefined && previousKey !== key,
    }, 'IMS token obtained')
    for (const waiter of state.waiters) {
      this.#timers.clearTimeout(waiter.timer)
      waiter.resolve(token)
    }
    state.waiters.clear()
  }

  #fail (state: AccountState, failure: Extract<AttemptResult, { ok: false }>): void {
    const account = state.config.name
    state.consecutiveFailures += 1
    state.lastFailure = failure.error
    const now = this.#now()
    const backoff = failure.outcome === 'config'
      ? this.#ims.backoff.maxSeconds * 1000
      : backoffDelayMs(state.consecutiveFailures, this.#ims.backoff, this.#random)
    const at = now + Math.max(backoff, failure.retryAfterMs ?? 0)
    this.#schedule(state, at, 'retry')
    const kept = this.#validToken(state)
    const fields = {
      account,
      outcome: failure.outcome,
      err: failure.error,
      consecutiveFailures: state.consecutiveFailures,
      retryInSeconds: Math.ceil((at - now) / 1000),
      fingerprint: kept?.fingerprint,
    }
    if (failure.error instanceof ImsConfigurationError) {
      const distinct = `${failure.error.imsError}\0${failure.error.detail}`
      if (state.loggedConfigErrors.has(distinct)) {
        this.#logger.debug(fields, 'IMS configuration error persists')
      } else {
        state.loggedConfigErrors.add(distinct)
        this.#logger.error(fields, 'IMS configuration error: token requests will keep failing until it is fixed')
      }
    } else {
      this.#logger.warn(fields, kept === undefined ? 'IMS token request failed' : 'IMS token refresh failed, still serving the current token')
    }
    for (const waiter of state.waiters) {
      if (at <= waiter.deadline) continue
      this.#timers.clearTimeout(waiter.timer)
      state.waiters.delete(waiter)
      waiter.reject(this.#unavailableError(state))
    }
  }

  #schedule (state: AccountState, at: number, reason: 'refresh' | 'retry'): void {
    state.nextAttemptAt = at
    state.timer = this.#timers.setTimeout(() => {
      state.timer = undefined
      this.#startAttempt(state, reason)
    }, Math.min(MAX_TIMER_DELAY_MS, Math.max(0, at - this.#now())))
  }

  #clearTimer (state: AccountState): void {
    if (state.timer === undefined) return
    this.#timers.clearTimeout(state.timer)
    state.timer = undefined
  }

  /** The error for a caller that cannot have a token now, with the seconds until the next request (at least 1). */
  #unavailableError (state: AccountState): Error {
    const account = state.config.name
    const retryAfterSeconds = Math.max(1, Math.ceil(((state.nextAttemptAt ?? 0) - this.#now()) / 1000))
    const failure = state.lastFailure
    if (failure instanceof ImsConfigurationError) {
      return new ImsConfigurationError({ account, imsError: failure.imsError, detail: failure.detail, retryAfterSeconds })
    }
    const reason = failure === undefined ? 'the token request did not finish in time' : failure.message
    return new TokenUnavailableError(account, retryAfterSeconds, reason, { cause: failure })
  }
}

/** The provider's own abort (timeout, close): its reason is one of the provider's errors. */
function abortedBy (signal: AbortSignal): AttemptResult {
  return { ok: false, outcome: 'network', error: signal.reason as Error, retryAfterMs: undefined }
}

/**
 * The transport failed (no connection, TLS refused, an answer cut off or
 * unparseable). The error kept, logged and shown in `/readyz` says so with
 * the failure's code only: a transport error can carry what the other side
 * sent (undici's HTTPParserError keeps the bytes it could not parse).
 */
function transportFailure (err: unknown): AttemptResult {
  const code = errorCode(err)
  const error = new Error(`the token request to IMS failed${code === undefined ? '' : ` (${code})`}`)
  return { ok: false, outcome: 'network', error, retryAfterMs: undefined }
}

function abortedResult (signal: AbortSignal): Promise<AttemptResult> {
  return new Promise(resolve => {
    signal.addEventListener('abort', () => resolve(abortedBy(signal)), { once: true })
  })
}
