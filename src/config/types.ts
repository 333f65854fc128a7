/**
 * The validated, frozen configuration (SPEC section 6). Produced by
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
  /** Required in `ims` mode. */
  readonly technicalAccount: string | undefined
}

export interface LimitsConfig {
  /** Largest request body accepted (413 above). */
  readonly maxBodyBytes: number
  /** Bodies up to this size are read whole, rewritten in memory and kept for one replay. */
  readonly replayLimitBytes: number
  /** Largest head read to find the SOAP method and credential elements of a streamed body. */
  readonly headBytes: number
}

export interface Config {
  readonly listen: ListenConfig
  readonly admin: ListenConfig
  readonly campaign: CampaignConfig
  readonly ims: ImsConfig
  readonly technicalAccounts: ReadonlyMap<string, TechnicalAccountConfig>
  readonly sessions: SessionsConfig
  readonly unknownCallers: 'passthrough' | 'reject'
  readonly wsdl: { readonly technicalAccount: string | undefined }
  readonly integrations: readonly IntegrationConfig[]
  /** CIDR blocks of reverse proxies whose `X-Forwarded-For` is believed. */
  readonly trustedProxies: readonly string[]
  readonly limits: LimitsConfig
  readonly logging: { readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' }
}
