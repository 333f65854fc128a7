/**
 * Adobe Campaign simulator: the SOAP router and the few pages legacy
 * integrations call, faithful enough that acc-js-sdk 1.2.0 runs against it
 * unchanged, with the IMS switches of Campaign v8.5/v8.6.
 *
 * Authentication follows Campaign: native operators log on with a
 * login/password and get a session token (`___...`) and a security token
 * (`@...`), looked for in the first SOAP parameter, `X-Session-Token`, the
 * `__sessiontoken` cookie and the SOAP Header `Cookie` element; inline
 * `login/password` session tokens with `allowUserPassword`; and
 * `Authorization: Bearer` IMS tokens verified against the IMS simulator's
 * authority, each technical account becoming an operator on first use.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { SOAP_CONTENT_TYPE, soapFault, soapResponse, type SoapOutput } from '../soap/envelope.js'
import { campaignTimestamp, escapeXml, xmlAttributes } from '../soap/xml.js'
import { findMethod, findSchema, methodOutputs, schemaWsdl, schemaXml } from './campaign-schemas.js'
import { ACCESS_LINKS, AccessModel, creationDate, namedRightsXml, type AccessSeed } from './campaign-rights.js'
import { CampaignStore, QueryError, type Row } from './campaign-store.js'
import { FaultInjector } from './faults.js'
import { SimServer, type SimRequest, type SimResponse } from './http-server.js'
import type { AccessTokenClaims, TokenAuthority } from './ims-tokens.js'
import { decodeXmlBody, parseXml, XmlInputError, type XmlElement } from '../soap/xml-tree.js'

export const SOAP_ROUTER_PATH = '/nl/jsp/soaprouter.jsp'
const SOAP_ENVELOPE_NAMESPACES = new Set(['http://schemas.xmlsoap.org/soap/envelope/', 'http://www.w3.org/2003/05/soap-envelope'])

/** Campaign's own fault messages, as clients see them. */
export const CAMPAIGN_FAULTS = {
  sessionInvalid: 'XSV-350008 Session has expired or is invalid. Please reconnect.',
  invalidLogin: 'XSV-350012 Invalid login or password. Connection denied.',
  unableToLogon: 'XSV-350022 Unable to log on.',
  imsProfile401: (schema: string, method: string) =>
    `SOP-330007 Error while executing the method '${method}' of service '${schema}'. ` +
    "XSV-350114 Unknown error during '/ims/profile/v1' IMS call, HTTP response code is 401",
  methodError: (schema: string, method: string) => `SOP-330011 Error while executing the method '${method}' of service '${schema}'.`,
  malformedRequest: 'SOP-330003 The SOAP request could not be read.',
} as const

export interface CampaignOperator {
  readonly login: string
  /** Native password; operators without one can only use IMS. */
  readonly password?: string
  /** A technical (API) operator: refused native authentication when `imsMandatory` is on. */
  readonly technical?: boolean
  readonly loginId?: number
  readonly label?: string
  /** Named rights granted to the operator itself (its `rights` element, and `<login-right>` in GetUserInfo). */
  readonly rights?: readonly string[]
}

/** The Message Center technical operator of the default set (legacy clients send `mc/<password>`). */
export const MESSAGE_CENTER_OPERATOR = { login: 'mc', password: 'mc-password', technical: true, label: 'Message Center agent', rights: ['messageCenter'] } as const satisfies CampaignOperator

export const DEFAULT_OPERATORS: readonly CampaignOperator[] = [
  { login: 'admin', password: 'admin', label: 'Administrator', rights: ['admin'] },
  MESSAGE_CENTER_OPERATOR,
  { login: 'crm_operator', password: 'crm-password', technical: true, label: 'CRM synchronisation', rights: ['admin'] },
]

export interface CampaignSimulatorOptions {
  readonly host?: string
  readonly port?: number
  /** Verifies `Authorization: Bearer` tokens; without it every bearer is refused. */
  readonly authority?: TokenAuthority
  readonly operators?: readonly CampaignOperator[]
  /** Campaign v8.6: technical operators cannot log on natively or call the API with a native session. */
  readonly imsMandatory?: boolean
  /** The security zone's `allowUserPassword`: `login/password` accepted as a session token. */
  readonly allowUserPassword?: boolean
  /** Fault any bearer request still carrying a legacy credential (catches a proxy that forgot to strip one). */
  readonly strict?: boolean
  /** HTTP status of SOAP faults: real instances were seen answering both. */
  readonly faultStatus?: 200 | 500
  /**
   * Fault answered for an expired, revoked or foreign bearer token:
   * `session-expired` (XSV-350008, which acc-js-sdk maps to 401) or
   * `ims-profile-401` (SOP-330007 ... XSV-350114 ... 401, as reported by users).
   */
  readonly invalidBearerFault?: 'session-expired' | 'ims-profile-401'
  /** Only these IMS client ids may call (the product profile); default all. */
  readonly allowedImsClients?: readonly string[]
  readonly sessionTimeoutSeconds?: number
  readonly instanceName?: string
  readonly buildNumber?: string
  readonly databaseId?: string
  /** Values for `xtk:session#GetOption`. */
  readonly options?: Readonly<Record<string, string>>
  /** Starting value of the ids returned by `nms:rtEvent#PushEvent`. */
  readonly firstEventId?: number
  /** Groups, folders, memberships and folder permissions (docs/simulators.md#folder-permissions-and-named-rights). */
  readonly access?: AccessSeed
  /** Keep at most this many requests in `requests` (oldest dropped). */
  readonly recordLimit?: number
  readonly maxBodyBytes?: number
  /** Campaign's lockout: `maxFailures` failed logons within `windowSeconds` lock the login for `banSeconds`. */
  readonly lockout?: { readonly maxFailures: number, readonly windowSeconds: number, readonly banSeconds: number }
  readonly now?: () => number
}

export const CAMPAIGN_SIM_DEFAULTS = {
  sessionTimeoutSeconds: 86_400,
  instanceName: 'acme_mkt_stage1',
  buildNumber: '9372',
  databaseId: 'uD5A3F1B7C2E94A0F8B6D1E3C5A7F9B2D4E6C8A0B',
  firstEventId: 73_000_001,
  recordLimit: 10_000,
  maxBodyBytes: 64 * 1024 * 1024,
  lockout: { maxFailures: 3, windowSeconds: 600, banSeconds: 300 },
} as const

/** A request as the simulator received it: exact body bytes and headers. */
export interface RecordedRequest {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
  /** `schema#Method` for SOAP calls, e.g. `xtk:session#Logon`. */
  readonly soapMethod: string | undefined
  readonly remoteAddress: string
  readonly at: number
}

export interface PushedEvent {
  readonly id: number
  readonly type: string | undefined
  readonly attributes: Readonly<Record<string, string>>
  readonly operator: string
}

interface Operator {
  readonly login: string
  readonly password: string | undefined
  readonly technical: boolean
  readonly loginId: number
  readonly label: string
  readonly rights: readonly string[]
}

interface Session {
  readonly token: string
  readonly securityToken: string
  readonly operator: Operator
  readonly expiresAt: number
}

interface SoapCall {
  readonly urn: string
  readonly schemaId: string
  readonly method: string
  readonly soapMethod: string
  readonly params: readonly XmlElement[]
  readonly header: XmlElement | undefined
}

interface Identity {
  readonly operator: Operator
  readonly session: Session | undefined
}

/** A SOAP fault to answer. */
class Fault extends Error {
  override name = 'CampaignFault'
  readonly code: 'Client' | 'Server'
  readonly detail: string | undefined
  constructor (message: string, code: 'Client' | 'Server' = 'Client', detail?: string) {
    super(message)
    this.code = code
    this.detail = detail
  }
}

type MethodImpl = (call: SoapCall, identity: Identity, request: SimRequest) => SoapOutput[]

export class CampaignSimulator {
  readonly faults = new FaultInjector()
  readonly store: CampaignStore
  /** Operator groups, folders and folder permissions, in `store`. */
  readonly access: AccessModel
  readonly events: PushedEvent[] = []
  imsMandatory: boolean
  allowUserPassword: boolean
  strict: boolean
  faultStatus: 200 | 500
  invalidBearerFault: 'session-expired' | 'ims-profile-401'

  readonly #server: SimServer
  readonly #authority: TokenAuthority | undefined
  readonly #operators = new Map<string, Operator>()
  readonly #sessions = new Map<string, Session>()
  readonly #failures = new Map<string, number[]>()
  readonly #lockedUntil = new Map<string, number>()
  readonly #requests: RecordedRequest[] = []
  readonly #parsed = new WeakMap<SimRequest, SoapCall | Fault>()
  readonly #options: Readonly<Record<string, string>>
  readonly #methods: ReadonlyMap<string, MethodImpl>
  readonly #settings: Required<Pick<CampaignSimulatorOptions, 'sessionTimeoutSeconds' | 'instanceName' | 'buildNumber' | 'databaseId' | 'recordLimit' | 'lockout'>>
  readonly #allowedImsClients: ReadonlySet<string> | undefined
  readonly #now: () => number
  #nextLoginId = 1059
  #nextEventId: number

  private constructor (options: CampaignSimulatorOptions) {
    this.#authority = options.authority
    this.#now = options.now ?? options.authority?.now.bind(options.authority) ?? Date.now
    this.imsMandatory = options.imsMandatory ?? false
    this.allowUserPassword = options.allowUserPassword ?? false
    this.strict = options.strict ?? false
    this.faultStatus = options.faultStatus ?? 500
    this.invalidBearerFault = options.invalidBearerFault ?? 'session-expired'
    this.#allowedImsClients = options.allowedImsClients === undefined ? undefined : new Set(options.allowedImsClients)
    this.#settings = {
      sessionTimeoutSeconds: options.sessionTimeoutSeconds ?? CAMPAIGN_SIM_DEFAULTS.sessionTimeoutSeconds,
      instanceName: options.instanceName ?? CAMPAIGN_SIM_DEFAULTS.instanceName,
      buildNumber: options.buildNumber ?? CAMPAIGN_SIM_DEFAULTS.buildNumber,
      databaseId: options.databaseId ?? CAMPAIGN_SIM_DEFAULTS.databaseId,
      recordLimit: options.recordLimit ?? CAMPAIGN_SIM_DEFAULTS.recordLimit,
      lockout: options.lockout ?? CAMPAIGN_SIM_DEFAULTS.lockout,
    }
    this.#nextEventId = options.firstEventId ?? CAMPAIGN_SIM_DEFAULTS.firstEventId
    this.#options = { XtkDatabaseId: this.#settings.databaseId, ...options.options }
    this.store = new CampaignStore({
      'nms:extAccount': [
        { id: '1816', name: 'defaultPopAccount', type: '0' },
        { id: '1817', name: 'defaultEmailBulk', type: '1' },
        { id: '1818', name: 'defaultOther', type: '1' },
        { id: '2087', name: 'ffda', type: '3' },
      ],
    }, {
      links: ACCESS_LINKS,
      // A row written without a name (through a plain Write) has no named rights.
      elements: { 'xtk:operator': { rights: (row) => namedRightsXml(this.#operators.get(row.name as string)?.rights ?? this.access.groupRights(row.name as string) ?? []) } },
    })
    this.access = new AccessModel(this.store, this.#now)
    for (const operator of options.operators ?? DEFAULT_OPERATORS) this.#addOperator(operator)
    if (options.access !== undefined) this.seedAccess(options.access)
    this.#methods = this.#buildMethods()
    this.#server = new SimServer({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      maxBodyBytes: options.maxBodyBytes ?? CAMPAIGN_SIM_DEFAULTS.maxBodyBytes,
      faults: this.faults,
      soapMethodOf: (request) => {
        const call = this.#parse(request)
        return call instanceof Fault ? undefined : call.soapMethod
      },
      // Recorded before faults apply: a request answered by an injected fault was still received.
      observe: (request) => this.#record(request),
      handle: (request) => this.#handle(request),
    })
  }

  static async start (options: CampaignSimulatorOptions = {}): Promise<CampaignSimulator> {
    const sim = new CampaignSimulator(options)
    await sim.#server.listen()
    return sim
  }

  /** Base URL, e.g. `http://127.0.0.1:40125`: what `campaign.url` points at. */
  get url (): string {
    return this.#server.url
  }

  get soapRouterUrl (): string {
    return `${this.#server.url}${SOAP_ROUTER_PATH}`
  }

  /** Every request received (bounded by `recordLimit`), oldest first. */
  get requests (): readonly RecordedRequest[] {
    return this.#requests
  }

  clearRequests (): void {
    this.#requests.length = 0
  }

  /** Number of live native sessions (Logon / BearerTokenLogon not yet logged off or expired). */
  get sessionCount (): number {
    const now = this.#now()
    return [...this.#sessions.values()].filter(s => s.expiresAt > now).length
  }

  refuseConnections (refuse: boolean): Promise<void> {
    return this.#server.refuseConnections(refuse)
  }

  close (): Promise<void> {
    return this.#server.close()
  }

  /**
   * Adds operators (a login that exists already is kept as it is), then
   * groups, folders, memberships and folder permissions. Throws when the
   * seed names an operator, group or folder that does not exist.
   */
  seedAccess (seed: AccessSeed): void {
    const { operators = [], ...rest } = seed
    for (const operator of operators) {
      if (!this.#operators.has(operator.login)) this.#addOperator(operator)
    }
    this.access.seed(rest)
  }

  #addOperator (operator: CampaignOperator): Operator {
    const added: Operator = {
      login: operator.login,
      password: operator.password,
      technical: operator.technical ?? false,
      loginId: operator.loginId ?? this.#nextLoginId++,
      label: operator.label ?? operator.login,
      rights: operator.rights ?? [],
    }
    this.#operators.set(added.login, added)
    this.store.insert('xtk:operator', { id: String(added.loginId), name: added.login, label: added.label, type: '0', ...creationDate(this.#now()) })
    return added
  }

  #record (request: SimRequest): void {
    const call = request.url.pathname === SOAP_ROUTER_PATH ? this.#parse(request) : undefined
    this.#requests.push({
      // A server-side IncomingMessage always has its method and url.
      method: request.raw.method as string,
      url: request.raw.url as string,
      headers: request.raw.headers,
      body: request.body,
      soapMethod: call === undefined || call instanceof Fault ? undefined : call.soapMethod,
      remoteAddress: request.remoteAddress,
      at: this.#now(),
    })
    if (this.#requests.length > this.#settings.recordLimit) this.#requests.shift()
  }

  #handle (request: SimRequest): SimResponse {
    const method = request.raw.method as string
    switch (request.url.pathname) {
      case SOAP_ROUTER_PATH:
        if (method !== 'POST') return text(405, 'The SOAP router only accepts POST.\n', { allow: 'POST' })
        return this.#soap(request)
      case '/r/test':
        return this.#redirTest(request)
      case '/nl/jsp/ping.jsp':
        return text(200, `OK\n${campaignTimestamp(this.#now())}\n`)
      case '/nl/jsp/mcPing.jsp':
        return text(200, `Ok\n${campaignTimestamp(this.#now())}\n0/400 pending events\n`)
      case '/nl/jsp/schemawsdl.jsp':
        return this.#wsdl(request)
      default:
        return text(404, 'Not found\n')
    }
  }

  #redirTest (request: SimRequest): SimResponse {
    const forwarded = header(request.raw.headers, 'x-forwarded-for')?.split(',')[0]?.trim()
    const attrs = xmlAttributes({
      status: 'OK',
      date: campaignTimestamp(this.#now()),
      build: this.#settings.buildNumber,
      sha1: 'c0ffee1',
      instance: this.#settings.instanceName,
      sourceIP: forwarded ?? request.remoteAddress,
      host: header(request.raw.headers, 'host') ?? '',
      localHost: `${this.#settings.instanceName}-1`,
    }).replace(/"/g, "'")
    return { status: 200, headers: { 'content-type': 'text/xml;charset=utf-8' }, body: `<redir${attrs}/>` }
  }

  #wsdl (request: SimRequest): SimResponse {
    const schemaId = request.url.searchParams.get('schema')
    if (schemaId === null) return text(400, 'Missing schema parameter.\n')
    const schema = findSchema(schemaId)
    if (schema === undefined) return text(404, `Unknown schema '${schemaId}'.\n`)
    // After the IMS migration Campaign requires authentication for the WSDL too.
    if (this.imsMandatory) {
      try {
        this.#identify(request, undefined)
      } catch (err) {
        return text(401, `${(err as Error).message}\n`)
      }
    }
    const proto = header(request.raw.headers, 'x-forwarded-proto') ?? 'http'
    const endpoint = `${proto}://${header(request.raw.headers, 'host') ?? '127.0.0.1'}${SOAP_ROUTER_PATH}`
    return { status: 200, headers: { 'content-type': 'text/xml;charset=utf-8' }, body: schemaWsdl(schema, endpoint) }
  }

  #parse (request: SimRequest): SoapCall | Fault {
    let call = this.#parsed.get(request)
    if (call === undefined) {
      call = parseSoapCall(request.body)
      this.#parsed.set(request, call)
    }
    return call
  }

  #soap (request: SimRequest): SimResponse {
    try {
      const call = this.#parse(request)
      if (call instanceof Fault) throw call
      const impl = this.#methods.get(call.soapMethod) ??
        call.schemaId.split('|').map(s => this.#methods.get(`${s}#${call.method}`)).find(m => m !== undefined)
      if (impl === undefined) throw new Fault(CAMPAIGN_FAULTS.methodError(call.schemaId, call.method), 'Client', 'Method unknown to the simulator.')
      const isLogon = call.soapMethod === 'xtk:session#Logon' || call.soapMethod === 'xtk:session#BearerTokenLogon'
      const identity = isLogon ? undefined : this.#identify(request, call)
      return { status: 200, headers: { 'content-type': SOAP_CONTENT_TYPE }, body: soapResponse(call.urn, call.method, impl(call, identity as Identity, request)) }
    } catch (err) {
      const fault = err instanceof Fault ? err : new Fault((err as Error).message, 'Server')
      return { status: this.faultStatus, headers: { 'content-type': SOAP_CONTENT_TYPE }, body: soapFault({ code: fault.code, message: fault.message, ...(fault.detail === undefined ? {} : { detail: fault.detail }) }) }
    }
  }

  /** Resolves who is calling, as Campaign does; throws a Fault when the caller cannot be authenticated. */
  #identify (request: SimRequest, call: SoapCall | undefined): Identity {
    const headers = request.raw.headers
    const credentials = legacyCredentials(headers, call)
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header(headers, 'authorization') ?? '')?.[1]
    if (bearer !== undefined) {
      if (this.strict) {
        const leftover = (Object.keys(credentials) as CredentialLocation[]).find(location => credentials[location] !== '')
        if (leftover !== undefined) {
          throw new Fault(`SIM-000001 Bearer request still carries a legacy credential in ${leftover} (simulator strict mode).`)
        }
      }
      return { operator: this.#bearerOperator(bearer, call), session: undefined }
    }
    const securityToken = credentials['X-Security-Token header'] || credentials['SOAP Header X-Security-Token']
    const explicitToken = credentials['first SOAP parameter'] || credentials['X-Session-Token header']
    const sessionToken = explicitToken || credentials['__sessiontoken cookie'] || credentials['SOAP Header Cookie']
    if (sessionToken !== '' && !sessionToken.startsWith('___') && sessionToken.includes('/')) {
      if (!this.allowUserPassword) throw new Fault(CAMPAIGN_FAULTS.sessionInvalid)
      const slash = sessionToken.indexOf('/')
      return { operator: this.#checkPassword(sessionToken.slice(0, slash), sessionToken.slice(slash + 1)), session: undefined }
    }
    let session: Session | undefined
    if (sessionToken !== '') {
      session = this.#liveSession(sessionToken)
      // A token sent only as a cookie needs the security token (Campaign's CSRF protection).
      if (session !== undefined && securityToken === '' && explicitToken === '') session = undefined
    } else if (securityToken !== '') {
      session = [...this.#sessions.values()].find(s => s.securityToken === securityToken && s.expiresAt > this.#now())
    }
    if (session === undefined || (securityToken !== '' && securityToken !== session.securityToken)) {
      throw new Fault(CAMPAIGN_FAULTS.sessionInvalid)
    }
    if (this.imsMandatory && session.operator.technical) throw new Fault(CAMPAIGN_FAULTS.unableToLogon, 'Client', 'Native authentication is disabled for technical operators.')
    return { operator: session.operator, session }
  }

  #liveSession (token: string): Session | undefined {
    const session = this.#sessions.get(token)
    if (session !== undefined && session.expiresAt <= this.#now()) {
      this.#sessions.delete(token)
      return undefined
    }
    return session
  }

  #bearerOperator (token: string, call: SoapCall | undefined): Operator {
    const result = this.#authority?.verify(token) ?? { ok: false, reason: 'signature' } as const
    if (!result.ok) {
      throw new Fault(this.invalidBearerFault === 'session-expired'
        ? CAMPAIGN_FAULTS.sessionInvalid
        : CAMPAIGN_FAULTS.imsProfile401(call?.schemaId ?? 'xtk:session', call?.method ?? 'Logon'))
    }
    if (this.#allowedImsClients !== undefined && !this.#allowedImsClients.has(result.claims.client_id)) {
      throw new Fault(CAMPAIGN_FAULTS.unableToLogon, 'Client', 'The technical account has no Campaign product profile.')
    }
    return this.#technicalAccountOperator(result.claims)
  }

  /** Campaign creates the technical account's operator, named by its email, on its first call. */
  #technicalAccountOperator (claims: AccessTokenClaims): Operator {
    return this.#operators.get(claims.user_id) ??
      this.#addOperator({ login: claims.user_id, label: `Technical account ${claims.client_id}`, rights: ['admin'] })
  }

  #checkPassword (login: string, password: string): Operator {
    const now = this.#now()
    const { maxFailures, windowSeconds, banSeconds } = this.#settings.lockout
    if ((this.#lockedUntil.get(login) ?? 0) > now) throw new Fault(CAMPAIGN_FAULTS.invalidLogin)
    const operator = this.#operators.get(login)
    if (operator?.password === undefined || !equalStrings(operator.password, password)) {
      const recent = (this.#failures.get(login) ?? []).filter(t => t > now - windowSeconds * 1000)
      recent.push(now)
      this.#failures.set(login, recent)
      if (recent.length >= maxFailures) {
        this.#lockedUntil.set(login, now + banSeconds * 1000)
        this.#failures.delete(login)
      }
      throw new Fault(CAMPAIGN_FAULTS.invalidLogin)
    }
    this.#failures.delete(login)
    if (this.imsMandatory && operator.technical) {
      throw new Fault(CAMPAIGN_FAULTS.unableToLogon, 'Client', 'Native authentication is disabled for technical operators.')
    }
    return operator
  }

  #openSession (operator: Operator): Session {
    const session: Session = {
      token: `___${randomUUID().toUpperCase()}`,
      securityToken: `@${randomBytes(49).toString('base64')}`,
      operator,
      expiresAt: this.#now() + this.#settings.sessionTimeoutSeconds * 1000,
    }
    this.#sessions.set(session.token, session)
    return session
  }

  #serverInfoXml (): string {
    return `<serverInfo${xmlAttributes({
      advisedClientBuildNumber: 0,
      allowSQL: false,
      buildNumber: this.#settings.buildNumber,
      commitId: 'c0ffee1',
      databaseId: this.#settings.databaseId,
      defaultNameSpace: 'cus',
      fohVersion: 2,
      instanceName: this.#settings.instanceName,
      majNumber: 8,
      minClientBuildNumber: this.#settings.buildNumber,
      minNumber: 6,
      minNumberTechnical: 0,
      releaseName: '8.6',
      securityTimeOut: this.#settings.sessionTimeoutSeconds,
      serverDate: campaignTimestamp(this.#now()),
      servicePack: 2,
      sessionTimeOut: this.#settings.sessionTimeoutSeconds,
      useVault: false,
    })}/>`
  }

  #userInfoXml (operator: Operator): string {
    const attrs = xmlAttributes({
      datakitInDatabase: true,
      homeDir: '',
      instanceLocale: 'en',
      locale: 'en',
      login: operator.login,
      loginCS: `${operator.label} (${operator.login})`,
      loginId: operator.loginId,
      noConsoleCnx: operator.technical,
      orgUnitId: 0,
      theme: '',
      timezone: 'Europe/Paris',
    })
    const rights = operator.rights.map(r => `<login-right right="${escapeXml(r)}"/>`).join('')
    return `<userInfo${attrs}><login-group id="1060"/>${rights}` +
      '<installed-package name="campaign" namespace="nms"/><installed-package name="core" namespace="nms"/>' +
      '<installed-package name="messageCenter" namespace="nms"/></userInfo>'
  }

  #sessionOutputs (session: Session): SoapOutput[] {
    const method = findMethod('xtk:session', 'Logon')
    /* c8 ignore next -- Logon is part of the built-in schema */
    if (method === undefined) throw new Error('xtk:session#Logon is not defined')
    const info = `<sessionInfo>${this.#serverInfoXml()}${this.#userInfoXml(session.operator)}</sessionInfo>`
    return methodOutputs(method, [session.token, info, session.securityToken])
  }

  #buildMethods (): ReadonlyMap<string, MethodImpl> {
    const outputs = (schemaId: string, method: string, values: (string | number | boolean)[]): SoapOutput[] =>
      methodOutputs(findMethod(schemaId, method) as NonNullable<ReturnType<typeof findMethod>>, values)
    const write: MethodImpl = (call) => {
      const doc = call.params[1]?.children[0]
      if (doc === undefined) throw new Fault(CAMPAIGN_FAULTS.methodError(call.schemaId, call.method), 'Client', 'Write needs a document.')
      runQuery(call, () => { if (doc.attrs.xtkschema === 'xtk:rights') this.access.write(doc); else this.store.write(doc) })
      return []
    }
    const getEntity: MethodImpl = (call) => {
      const pk = call.params[1]?.text ?? ''
      const schema = pk.startsWith('xtk:schema|') ? findSchema(pk.slice('xtk:schema|'.length)) : undefined
      return outputs('xtk:persist', 'GetEntityIfMoreRecent', [schema === undefined ? '' : schemaXml(schema)])
    }
    return new Map<string, MethodImpl>([
      ['xtk:session#Logon', (call) => {
        const login = call.params[1]?.text ?? ''
        const password = call.params[2]?.text ?? ''
        return this.#sessionOutputs(this.#openSession(this.#checkPassword(login, password)))
      }],
      ['xtk:session#BearerTokenLogon', (call) => {
        const operator = this.#bearerOperator((call.params[1]?.text ?? '').trim(), call)
        return this.#sessionOutputs(this.#openSession(operator))
      }],
      ['xtk:session#Logoff', (_call, identity) => {
        if (identity.session !== undefined) this.#sessions.delete(identity.session.token)
        return []
      }],
      ['xtk:session#GetUserInfo', (_call, identity) => outputs('xtk:session', 'GetUserInfo', [this.#userInfoXml(identity.operator)])],
      ['xtk:session#GetOption', (call) => {
        const value = this.#options[call.params[1]?.text ?? '']
        // Campaign option type 6 is a string; a missing option answers an empty value of type 0.
        return outputs('xtk:session', 'GetOption', value === undefined ? ['', 0] : [value, 6])
      }],
      ['xtk:persist#Write', write],
      ['xtk:session#Write', write],
      ['xtk:persist#GetEntityIfMoreRecent', getEntity],
      ['xtk:session#GetEntityIfMoreRecent', getEntity],
      ['xtk:queryDef#ExecuteQuery', (call) => {
        const queryDef = call.params[1]?.children[0]
        if (queryDef?.local !== 'queryDef') throw new Fault(CAMPAIGN_FAULTS.methodError(call.schemaId, call.method), 'Client', 'ExecuteQuery needs a <queryDef> document.')
        return outputs('xtk:queryDef', 'ExecuteQuery', [runQuery(call, () => this.store.query(queryDef))])
      }],
      ['nms:rtEvent#PushEvent', (call, identity) => {
        const event = call.params[1]?.children[0]
        if (event === undefined) throw new Fault(CAMPAIGN_FAULTS.methodError(call.schemaId, call.method), 'Client', 'PushEvent needs an <rtEvent> document.')
        return outputs('nms:rtEvent', 'PushEvent', [this.#pushEvent(event, identity)])
      }],
      ['nms:rtEvent#PushEvents', (call, identity) => {
        const events = call.params[1]?.children[0]?.children ?? []
        const ids = events.map(e => `<rtEvent id="${this.#pushEvent(e, identity)}"/>`).join('')
        return outputs('nms:rtEvent', 'PushEvents', [`<rtEvent-collection>${ids}</rtEvent-collection>`])
      }],
    ])
  }

  #pushEvent (event: XmlElement, identity: Identity): number {
    const id = this.#nextEventId++
    this.events.push({ id, type: event.attrs.type, attributes: event.attrs, operator: identity.operator.login })
    return id
  }
}

function runQuery<T> (call: SoapCall, run: () => T): T {
  try {
    return run()
  } catch (err) {
    if (err instanceof QueryError) throw new Fault(CAMPAIGN_FAULTS.methodError(call.schemaId, call.method), 'Client', err.message)
    /* c8 ignore next 2 -- the store throws only QueryError */
    throw err
  }
}

function parseSoapCall (body: Buffer): SoapCall | Fault {
  let envelope: XmlElement
  try {
    envelope = parseXml(decodeXmlBody(body))
  } catch (err) {
    if (err instanceof XmlInputError) return new Fault(CAMPAIGN_FAULTS.malformedRequest, 'Client', err.message)
    /* c8 ignore next 2 -- parseXml wraps every parser error */
    throw err
  }
  if (envelope.local !== 'Envelope' || !SOAP_ENVELOPE_NAMESPACES.has(envelope.ns)) {
    return new Fault(CAMPAIGN_FAULTS.malformedRequest, 'Client', 'The document is not a SOAP envelope.')
  }
  const header = envelope.children.find(c => c.local === 'Header' && c.ns === envelope.ns)
  const method = envelope.children.find(c => c.local === 'Body' && c.ns === envelope.ns)?.children[0]
  if (method === undefined || !method.ns.startsWith('urn:')) {
    return new Fault(CAMPAIGN_FAULTS.malformedRequest, 'Client', 'No method element in a urn: namespace in the SOAP Body.')
  }
  const schemaId = method.ns.slice('urn:'.length)
  return { urn: method.ns, schemaId, method: method.local, soapMethod: `${schemaId}#${method.local}`, params: method.children, header }
}

type CredentialLocation = 'first SOAP parameter' | 'X-Session-Token header' | 'X-Security-Token header' |
  '__sessiontoken cookie' | 'SOAP Header Cookie' | 'SOAP Header X-Security-Token'

/** Every place a legacy client may put a credential, in this order, with what it holds there ('' when empty or absent). */
function legacyCredentials (headers: IncomingHttpHeaders, call: SoapCall | undefined): Record<CredentialLocation, string> {
  const soapHeader = (local: string): string => call?.header?.children.find(c => c.local === local)?.text.trim() ?? ''
  return {
    'first SOAP parameter': call?.params[0]?.text.trim() ?? '',
    'X-Session-Token header': header(headers, 'x-session-token')?.trim() ?? '',
    'X-Security-Token header': header(headers, 'x-security-token')?.trim() ?? '',
    '__sessiontoken cookie': cookieValue(header(headers, 'cookie') ?? '', '__sessiontoken'),
    'SOAP Header Cookie': cookieValue(soapHeader('Cookie'), '__sessiontoken'),
    'SOAP Header X-Security-Token': soapHeader('X-Security-Token'),
  }
}

function cookieValue (cookieHeader: string, name: string): string {
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return ''
}

/** A request header; Node joins repeated request headers into one string (only `set-cookie`, never read here, is an array). */
function header (headers: IncomingHttpHeaders, name: 'authorization' | 'cookie' | 'host' | 'x-forwarded-for' | 'x-forwarded-proto' | 'x-security-token' | 'x-session-token'): string | undefined {
  return headers[name] as string | undefined
}

function equalStrings (a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

function text (status: number, body: string, headers: Record<string, string> = {}): SimResponse {
  return { status, headers: { 'content-type': 'text/plain;charset=utf-8', ...headers }, body }
}

export type { Row }
