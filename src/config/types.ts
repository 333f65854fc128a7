/**
 * The validated, frozen configuration (docs/configuration.md). Produced by
 * `loadConfig()`; everything downstream reads this shape only.
 */

/** Where a secret comes from. File secrets are re-read each time they are needed (rotation without restart). */
export type SecretSource =
  | { readonly kind: 'value', readonly value: string }
  | { readonly kind: 'file', readonly path: string }

export interface ListenConfig {
  readonly host: string
  readonly port: number
}

/** Inbound TLS of the proxy listener. */
export interface TlsConfig {
  readonly certFile: string
  readonly keyFile: string
  /** CA bundle that signs client certificates (mTLS). */
  readonly caFile: string | undefined
  /** `request`: verified when sent; `require`: the handshake fails without a valid one. */
  readonly clientCertificates: 'none' | 'request' | 'require'
}

export interface ProxyListenConfig extends ListenConfig {
  readonly tls: TlsConfig | undefined
  /**
   * The origin clients reach the proxy at (`listen.publicUrl`, e.g.
   * `https://campaign-proxy.acme.com`): the endpoint WSDLs name. Undefined:
   * the origin of each request (its Host), or a relative endpoint.
   */
  readonly publicUrl: string | undefined
}

/** How an integration's client certificate is recognised: its subject (`CN=...,O=...`) or its SHA-256 fingerprint (`AB:CD:...`). */
export type ClientCertificateMatch =
  | { readonly subject: string }
  | { readonly sha256: string }

export interface CampaignConfig {
  /** Base URL of the instance, e.g. `https://acme-mkt-prod1.campaign.adobe.com` (no path, no query). */
  readonly url: string
  /** Whole-request limit for upstream calls (headers and body). */
  readonly timeoutSeconds: number
  readonly connectTimeoutSeconds: number
  /** Extra CA bundle (PEM) to verify the upstream certificate; system CAs otherwise. TLS is always verified. */
  readonly caFile: string | undefined
  /** Keep-alive connections kept open to Campaign. */
  readonly maxConnections: number
}

/**
 * One Campaign instance of `campaigns` (or the one `campaign:` alone
 * configures, named `default`): where requests for it go, and which
 * requests are for it (docs/configuration.md, Several Campaign instances).
 */
export interface CampaignInstanceConfig extends CampaignConfig {
  readonly name: string
  /** A listener of its own: every request arriving there is for this instance, whatever its Host. */
  readonly listen: ListenConfig | undefined
  /** Host names (lower case, no port) that select this instance on the main listener. */
  readonly hosts: readonly string[]
}

export interface ImsConfig {
  readonly tokenUrl: string
  readonly timeoutSeconds: number
  /** Share of a token's lifetime after which it is refreshed in the background (default 0.8). */
  readonly refreshRatio: number
  /** A token is never injected later than its expiry minus this margin. */
  readonly expirySkewSeconds: number
  readonly backoff: { readonly initialSeconds: number, readonly maxSeconds: number }
  readonly caFile: string | undefined
}

export interface TechnicalAccountConfig {
  readonly name: string
  readonly clientId: string
  readonly clientSecret: SecretSource
  readonly scopes: readonly string[]
}

export interface SessionsConfig {
  readonly secret: SecretSource | undefined
  readonly ttlSeconds: number
}

export type IntegrationMode = 'ims' | 'passthrough'

export interface IntegrationConfig {
  readonly name: string
  readonly mode: IntegrationMode
  readonly login: string | undefined
  readonly passwordHash: string | undefined
  /** CIDR blocks (IPv4 or IPv6) whose callers are this integration. */
  readonly networks: readonly string[]
  /** Verified client certificates that identify this integration (mTLS). */
  readonly clientCertificates: readonly ClientCertificateMatch[]
  /**
   * Required in `ims` mode: one account for every Campaign instance, or a
   * map of instance name to account naming the only instances the
   * integration may call.
   */
  readonly technicalAccount: string | ReadonlyMap<string, string> | undefined
  /**
   * Least privilege (docs/configuration.md#least-privilege): the SOAP
   * methods (`urn#Method`, `urn#*`) the integration may call. Undefined:
   * every method.
   */
  readonly allowedMethods: readonly string[] | undefined
  /**
   * The paths besides the SOAP router and the WSDL the integration may
   * reach. Undefined: every path when `allowedMethods` is unset too, none
   * beyond the SOAP router and the WSDL when it is set.
   */
  readonly allowedPaths: readonly string[] | undefined
}

export interface LimitsConfig {
  /** Largest request body accepted (413 above). */
  readonly maxBodyBytes: number
  /** Bodies up to this size are read whole, rewritten in memory and kept for one replay. */
  readonly replayLimitBytes: number
  /** Largest head read to find the SOAP method and credential elements of a streamed body. */
  readonly headBytes: number
  /** Largest request head (request line and headers) accepted; larger ones get 431. */
  readonly maxHeaderBytes: number
  /** Requests of one integration in progress at once; more wait in its queue. */
  readonly maxConcurrentRequests: number
  /** Requests that may wait for a slot, per integration (and for the process); more get 503 at once. */
  readonly queueDepth: number
  /** Longest wait in a queue; then 503 with Retry-After. */
  readonly queueTimeoutSeconds: number
  /** Requests in progress at once in the whole process, every integration and unidentified caller together. */
  readonly maxConcurrentRequestsTotal: number
  /** Requests in progress at once from callers no integration is attributed to (anonymous, unknown logins): their own budget. */
  readonly maxUnidentifiedRequests: number
  /** Upstream connections for calls forwarded without the proxy's token (passthrough, anonymous), apart from campaign.maxConnections. */
  readonly unidentifiedConnections: number
  /** A streamed answer whose client reads nothing for this long is cut, releasing its Campaign connection. */
  readonly responseIdleTimeoutSeconds: number
  /** Requests in progress at once on one client connection (HTTP pipelining); more get 503 at once. */
  readonly maxPipelinedRequests: number
  /** Time a client has to send a whole request (headers and body). */
  readonly requestTimeoutSeconds: number
  /** Time a client has to send the request headers. */
  readonly headersTimeoutSeconds: number
  /** Idle time after which a client's keep-alive connection is closed. */
  readonly keepAliveTimeoutSeconds: number
  /** Password checks (scrypt runs) in progress at once; more wait in a queue per login, served in turn. */
  readonly maxConcurrentPasswordChecks: number
  /** Password checks that may wait, all logins together; more are refused at once with 503. */
  readonly passwordCheckQueueDepth: number
  /** Password checks of one login that may wait; more are refused at once with 503. */
  readonly passwordCheckQueueDepthPerLogin: number
}

/** Failed logons (docs/legacy-sessions.md#lockout). */
export interface LockoutConfig {
  /** Failures of one login from one address within the window that lock it there. */
  readonly maxFailures: number
  readonly windowSeconds: number
  /** How long a lock lasts. */
  readonly lockSeconds: number
  /** Failures of one login from all addresses within the window that lock it for every address it has not logged on from in the last 24 hours. */
  readonly loginMaxFailures: number
}

/**
 * `store.redis` (docs/deployment.md#several-replicas-sharing-state): Logoff
 * revocations, the lockout, remembered passthrough sessions and the
 * inventory shared by every replica through Redis or Valkey.
 */
export interface RedisStoreConfig {
  /** `redis://` or `rediss://` (TLS) URL: host, port, database; a password in it is read as the password. */
  readonly url: string
  readonly username: string | undefined
  readonly password: SecretSource | undefined
  /** Extra CA bundle (PEM) to verify a `rediss://` server. */
  readonly caFile: string | undefined
  /** Prefix of every key and stream the proxy uses (several proxies can share one database). */
  readonly keyPrefix: string
  /** Connect and command limit: past it the call fails and the proxy goes on with its own state. */
  readonly timeoutSeconds: number
  /** How often inventory counts are added to the shared ones. */
  readonly inventoryFlushSeconds: number
}

export interface Config {
  readonly listen: ProxyListenConfig
  readonly admin: ListenConfig
  /**
   * The settings of the default instance (else the first one of
   * `campaigns`): what `check` verifies. Requests use `campaigns`.
   */
  readonly campaign: CampaignConfig
  /** Every Campaign instance, by name, in document order (`campaign:` alone: one, named `default`). */
  readonly campaigns: ReadonlyMap<string, CampaignInstanceConfig>
  /** The instance of requests on the main listener that no `hosts` entry selects (`campaign:` alone: `default`). */
  readonly defaultCampaign: string | undefined
  readonly ims: ImsConfig
  readonly technicalAccounts: ReadonlyMap<string, TechnicalAccountConfig>
  readonly sessions: SessionsConfig
  readonly unknownCallers: 'passthrough' | 'reject'
  readonly wsdl: { readonly technicalAccount: string | undefined }
  readonly integrations: readonly IntegrationConfig[]
  /** CIDR blocks of reverse proxies whose `X-Forwarded-For` is believed. */
  readonly trustedProxies: readonly string[]
  readonly limits: LimitsConfig
  readonly lockout: LockoutConfig
  readonly logging: { readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' }
  /** Shared state for several replicas; undefined: every replica keeps its own (the default). */
  readonly store: { readonly redis: RedisStoreConfig | undefined }
}
