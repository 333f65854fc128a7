/**
 * Adobe IMS simulator: the OAuth Server-to-Server token endpoint
 * (`POST /ims/token/v3`, `grant_type=client_credentials`).
 *
 * Behaviour follows Adobe IMS as seen by a client: form-encoded input,
 * comma-separated scopes, `expires_in` in seconds, JWT-shaped tokens, the
 * `invalid_client` / `invalid_scope` / `unsupported_grant_type` errors.
 */
import { timingSafeEqual } from 'node:crypto'
import { FaultInjector } from './faults.js'
import { SimServer, type SimRequest, type SimResponse } from './http-server.js'
import { TokenAuthority } from './ims-tokens.js'

export const IMS_TOKEN_PATH = '/ims/token/v3'
/** What Adobe IMS returns for server-to-server tokens: just under 24 hours. */
export const DEFAULT_IMS_EXPIRES_IN_SECONDS = 86_399
const MAX_FORM_BYTES = 64 * 1024

export interface ImsClientRegistration {
  readonly clientId: string
  /** Every secret currently valid for the client (several during a rotation). */
  readonly secrets: readonly string[]
  /** Scopes the client may request; a request for any other scope is `invalid_scope`. */
  readonly scopes: readonly string[]
}

export interface ImsSimulatorOptions {
  readonly host?: string
  readonly port?: number
  readonly clients: readonly ImsClientRegistration[]
  readonly expiresInSeconds?: number
  /** Share one authority with the Campaign simulator so it can verify the tokens. */
  readonly authority?: TokenAuthority
  readonly now?: () => number
}

interface ClientCounters { requests: number, issued: number }

export class ImsSimulator {
  readonly faults = new FaultInjector()
  readonly authority: TokenAuthority
  readonly #clients = new Map<string, ImsClientRegistration>()
  readonly #counters = new Map<string, ClientCounters>()
  readonly #server: SimServer
  #expiresInSeconds: number

  private constructor (options: ImsSimulatorOptions) {
    this.authority = options.authority ?? new TokenAuthority(options.now === undefined ? {} : { now: options.now })
    for (const client of options.clients) this.registerClient(client)
    this.#expiresInSeconds = options.expiresInSeconds ?? DEFAULT_IMS_EXPIRES_IN_SECONDS
    this.#server = new SimServer({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      maxBodyBytes: MAX_FORM_BYTES,
      faults: this.faults,
      observe: (request) => this.#observe(request),
      handle: (request) => this.#handle(request),
    })
  }

  static async start (options: ImsSimulatorOptions): Promise<ImsSimulator> {
    const sim = new ImsSimulator(options)
    await sim.#server.listen()
    return sim
  }

  /** Base URL of the simulator, e.g. `http://127.0.0.1:40123`. */
  get url (): string {
    return this.#server.url
  }

  /** The full token endpoint URL to configure as `ims.tokenUrl`. */
  get tokenUrl (): string {
    return `${this.#server.url}${IMS_TOKEN_PATH}`
  }

  /** Adds or replaces a client (replacing its secrets models a rotation). */
  registerClient (client: ImsClientRegistration): void {
    this.#clients.set(client.clientId, { clientId: client.clientId, secrets: [...client.secrets], scopes: [...client.scopes] })
  }

  /** Lifetime (`expires_in`, seconds) of the tokens issued from now on. */
  get expiresInSeconds (): number {
    return this.#expiresInSeconds
  }

  set expiresInSeconds (seconds: number) {
    this.#expiresInSeconds = seconds
  }

  /** Token requests received for this client id: every POST to the token endpoint, faulted, refused or not. */
  tokenRequests (clientId: string): number {
    return this.#counters.get(clientId)?.requests ?? 0
  }

  /** Tokens successfully issued to this client id. */
  tokensIssued (clientId: string): number {
    return this.#counters.get(clientId)?.issued ?? 0
  }

  resetCounters (): void {
    this.#counters.clear()
  }

  refuseConnections (refuse: boolean): Promise<void> {
    return this.#server.refuseConnections(refuse)
  }

  close (): Promise<void> {
    return this.#server.close()
  }

  #count (clientId: string): ClientCounters {
    let counters = this.#counters.get(clientId)
    if (counters === undefined) {
      counters = { requests: 0, issued: 0 }
      this.#counters.set(clientId, counters)
    }
    return counters
  }

  /**
   * Counts every POST to the token endpoint under the `client_id` of its form,
   * before faults apply: a proxy retrying through 429s or resets must see each
   * attempt counted, and a refused content type is still an attempt.
   */
  #observe (request: SimRequest): void {
    if (request.url.pathname !== IMS_TOKEN_PATH || request.raw.method !== 'POST') return
    const clientId = new URLSearchParams(request.body.toString('utf8')).get('client_id') ?? ''
    this.#count(clientId).requests += 1
  }

  #handle (request: SimRequest): SimResponse {
    if (request.url.pathname !== IMS_TOKEN_PATH) return json(404, { error: 'not_found', error_description: 'unknown endpoint' })
    if (request.raw.method !== 'POST') return json(405, { error: 'invalid_request', error_description: 'method not allowed' }, { allow: 'POST' })
    const contentType = request.raw.headers['content-type'] ?? ''
    if (!/^application\/x-www-form-urlencoded\b/i.test(contentType)) {
      return json(400, { error: 'invalid_request', error_description: 'content type must be application/x-www-form-urlencoded' })
    }
    const form = new URLSearchParams(request.body.toString('utf8'))
    const clientId = form.get('client_id') ?? ''

    if (form.get('grant_type') !== 'client_credentials') {
      return json(400, { error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials' })
    }
    const client = this.#clients.get(clientId)
    if (client === undefined) return json(400, { error: 'invalid_client', error_description: 'invalid client_id parameter' })
    if (!isKnownSecret(client.secrets, form.get('client_secret') ?? '')) {
      return json(401, { error: 'invalid_client', error_description: 'invalid client_secret parameter' })
    }
    const requested = (form.get('scope') ?? '').split(',').map(s => s.trim()).filter(s => s !== '')
    if (requested.length === 0) return json(400, { error: 'invalid_scope', error_description: 'scope parameter is missing' })
    const refused = requested.filter(s => !client.scopes.includes(s))
    if (refused.length > 0) return json(400, { error: 'invalid_scope', error_description: `invalid scope (${refused.join(',')})` })

    const { token } = this.authority.issue(clientId, requested, this.#expiresInSeconds)
    this.#count(clientId).issued += 1
    return json(200, { access_token: token, token_type: 'bearer', expires_in: this.#expiresInSeconds })
  }
}

function isKnownSecret (secrets: readonly string[], candidate: string): boolean {
  const given = Buffer.from(candidate)
  let found = false
  for (const secret of secrets) {
    const expected = Buffer.from(secret)
    // Compare every secret, in constant time per secret, so timing does not tell which one matched.
    if (expected.length === given.length && timingSafeEqual(expected, given)) found = true
  }
  return found
}

function json (status: number, body: unknown, headers: Record<string, string> = {}): SimResponse {
  return {
    status,
    headers: { 'content-type': 'application/json;charset=UTF-8', 'cache-control': 'no-cache, no-store', ...headers },
    body: JSON.stringify(body),
  }
}
