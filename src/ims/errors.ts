/**
 * The errors the token provider hands to its callers. The proxy maps both to
 * a 503 with `Retry-After` (docs/architecture.md#faults); their messages name the
 * technical account and never carry a secret, a token, or text from IMS
 * (only an error code IMS_ERROR_CODES lists and the HTTP status), so they
 * can go to logs and `/readyz` as they are (docs/security.md).
 */

/**
 * The `error` codes of a token endpoint answer the proxy repeats: those of
 * OAuth 2.0 (RFC 6749 sections 4.1.2.1 and 5.2, RFC 6750 section 3.1). Any
 * other value is left out, whatever its length or characters: IMS, or
 * whatever answers in its place, could echo the client secret there, and
 * only a fixed list guarantees it is never repeated.
 */
export const IMS_ERROR_CODES: ReadonlySet<string> = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'access_denied',
  'unsupported_response_type',
  'server_error',
  'temporarily_unavailable',
  'invalid_token',
  'insufficient_scope',
])

/** IMS error codes that mean the credential itself is wrong: retrying cannot help until an operator fixes it. */
export const IMS_CONFIGURATION_ERRORS: ReadonlySet<string> = new Set(['invalid_client', 'invalid_scope'])

/** Our own code for a client secret that could not be read (missing or unreadable file). */
export const SECRET_UNREADABLE = 'secret_unreadable'

/** No valid token for the account now; try again in `retryAfterSeconds`. */
export class TokenUnavailableError extends Error {
  readonly code = 'IMS_TOKEN_UNAVAILABLE'
  readonly account: string
  /** Seconds until the provider's next token request (at least 1). */
  readonly retryAfterSeconds: number

  constructor (account: string, retryAfterSeconds: number, reason: string, options?: ErrorOptions) {
    super(`no valid IMS token for technical account "${account}": ${reason}`, options)
    this.name = 'TokenUnavailableError'
    this.account = account
    this.retryAfterSeconds = retryAfterSeconds
  }
}

export interface ImsConfigurationErrorFields {
  readonly account: string
  /** `invalid_client`, `invalid_scope`, or `secret_unreadable`. */
  readonly imsError: string
  /** `HTTP 401` (IMS's status) for a refusal, what failed for an unreadable secret; never IMS's `error_description`. */
  readonly detail: string
  readonly retryAfterSeconds: number
}

/**
 * IMS refused the credential (`invalid_client`, `invalid_scope`) or the
 * secret could not be read: only an operator can fix it. The provider still
 * retries, at the longest backoff, so a corrected secret file is picked up
 * without a restart.
 */
export class ImsConfigurationError extends Error {
  readonly code = 'IMS_CONFIGURATION'
  readonly account: string
  readonly imsError: string
  readonly detail: string
  /** Seconds until the provider tries again (at least 1). */
  readonly retryAfterSeconds: number

  constructor (fields: ImsConfigurationErrorFields) {
    super(messageFor(fields))
    this.name = 'ImsConfigurationError'
    this.account = fields.account
    this.imsError = fields.imsError
    this.detail = fields.detail
    this.retryAfterSeconds = fields.retryAfterSeconds
  }
}

function messageFor ({ account, imsError, detail }: ImsConfigurationErrorFields): string {
  const path = `technicalAccounts.${account}`
  if (imsError === SECRET_UNREADABLE) {
    return `the client secret of technical account "${account}" is unavailable (${detail}): make ${path}.clientSecret a readable, non-empty file`
  }
  const refused = `IMS refused technical account "${account}" (${detail} ${imsError})`
  if (imsError === 'invalid_scope') return `${refused}: make ${path}.scopes match the scopes of the Developer Console credential`
  return `${refused}: check ${path}.clientId and ${path}.clientSecret against the Developer Console credential`
}
