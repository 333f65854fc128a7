/**
 * Defaults, limits and the JSON schema of the configuration file
 * (docs/configuration.md). The schema checks shape and types; rules that
 * relate several values live in build.ts and its build-*.ts sections.
 */
import { Ajv, type ErrorObject, type SchemaObject } from 'ajv'
import { formatPath, type Problem } from './problems.js'

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB

/** Pino's levels, in the order pino ranks them. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** Every default applied to a key the file leaves out. */
export const DEFAULTS = Object.freeze({
  listen: Object.freeze({ host: '0.0.0.0', port: 8080 }),
  admin: Object.freeze({ host: '0.0.0.0', port: 9464 }),
  campaign: Object.freeze({ timeoutSeconds: 120, connectTimeoutSeconds: 10, maxConnections: 64 }),
  ims: Object.freeze({
    tokenUrl: 'https://ims-na1.adobelogin.com/ims/token/v3',
    timeoutSeconds: 10,
    refreshRatio: 0.8,
    expirySkewSeconds: 60,
    backoff: Object.freeze({ initialSeconds: 1, maxSeconds: 60 }),
  }),
  sessions: Object.freeze({ ttlSeconds: 86_400 }),
  unknownCallers: 'passthrough',
  integrationMode: 'ims',
  limits: Object.freeze({
    maxBodyBytes: GiB,
    replayLimitBytes: MiB,
    headBytes: 64 * KiB,
    maxHeaderBytes: 16 * KiB,
    maxConcurrentRequests: 1024,
    queueDepth: 1024,
    queueTimeoutSeconds: 5,
    maxConcurrentRequestsTotal: 4096,
    maxUnidentifiedRequests: 256,
    unidentifiedConnections: 16,
    responseIdleTimeoutSeconds: 30,
    maxPipelinedRequests: 32,
    requestTimeoutSeconds: 300,
    headersTimeoutSeconds: 30,
    keepAliveTimeoutSeconds: 72,
    maxConcurrentPasswordChecks: 2,
    passwordCheckQueueDepth: 32,
    passwordCheckQueueDepthPerLogin: 8,
  }),
  lockout: Object.freeze({ maxFailures: 3, windowSeconds: 600, lockSeconds: 300, loginMaxFailures: 20 }),
  clientCertificates: 'none',
  logging: Object.freeze({ level: 'info' }),
  store: Object.freeze({ keyPrefix: 'campaign-ims-proxy:', timeoutSeconds: 0.5, inventoryFlushSeconds: 1 }),
} as const)

/** Inline session secrets shorter than this are refused: they sign every proxy session. */
export const MIN_SESSION_SECRET_LENGTH = 32
/** Smallest head read of a streamed body: a SOAP envelope's header and method element fit well within it. */
export const MIN_HEAD_BYTES = KiB
/** Prefix of the hashes `campaign-ims-proxy hash-password` prints. */
export const PASSWORD_HASH_PREFIX = 'scrypt$'
/** Technical account and integration names: they appear in logs, metrics labels and the inventory. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
/** Campaign instance names (`campaigns.<name>`): a letter first, as they appear in logs and faults. */
export const CAMPAIGN_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/
/** The instance `campaign:` alone configures. */
export const SINGLE_CAMPAIGN_NAME = 'default'
/** Longest integration name: every proxy session token carries it, and must stay within the token shape (docs/architecture.md#proxy-sessions). */
export const MAX_INTEGRATION_NAME_LENGTH = 128

const text = { type: 'string', minLength: 1 }
/** Optional strings where '' means "not set", so `${VAR:-}` can switch them off. */
const optionalText = { type: 'string' }
const port = { type: 'integer', minimum: 0, maximum: 65535 }
const seconds = { type: 'number', exclusiveMinimum: 0 }
const size = { type: ['integer', 'string'], minimum: 1, expected: 'a number of bytes or a size such as 64KiB, 1MiB, 10MB' }
const secret = {
  type: ['string', 'object'],
  expected: 'a string (the secret) or { file: PATH }',
  minLength: 1,
  properties: { file: text },
  required: ['file'],
  additionalProperties: false,
}
const addressList = { type: 'array', items: { type: 'string' } }

function mapping (properties: Record<string, SchemaObject>, required: string[] = []): SchemaObject {
  return { type: 'object', properties, required, additionalProperties: false }
}

const listen = mapping({
  host: text,
  port,
  publicUrl: optionalText,
  tls: mapping({ certFile: text, keyFile: text, caFile: optionalText, clientCertificates: { enum: ['none', 'request', 'require'] } }, ['certFile', 'keyFile']),
})

/** What one Campaign instance is configured with (`campaign`, or each entry of `campaigns`). */
const campaignSettings: Record<string, SchemaObject> = {
  url: text,
  timeoutSeconds: seconds,
  connectTimeoutSeconds: seconds,
  caFile: optionalText,
  maxConnections: { type: 'integer', minimum: 1 },
}

export const CONFIG_SCHEMA: SchemaObject = mapping({
  listen,
  admin: mapping({ host: text, port }),
  campaign: mapping(campaignSettings, ['url']),
  campaigns: {
    type: 'object',
    additionalProperties: mapping({
      ...campaignSettings,
      listen: mapping({ host: text, port }, ['port']),
      hosts: { type: 'array', items: text },
    }, ['url']),
  },
  defaultCampaign: text,
  ims: mapping({
    tokenUrl: text,
    timeoutSeconds: seconds,
    refreshRatio: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
    expirySkewSeconds: { type: 'number', minimum: 0 },
    backoff: mapping({ initialSeconds: seconds, maxSeconds: seconds }),
    caFile: optionalText,
  }),
  technicalAccounts: {
    type: 'object',
    additionalProperties: mapping({
      clientId: text,
      clientSecret: secret,
      scopes: { type: 'array', items: text, minItems: 1 },
    }, ['clientId', 'clientSecret', 'scopes']),
  },
  sessions: mapping({ secret, ttlSeconds: { type: 'integer', minimum: 1 } }),
  unknownCallers: { enum: ['passthrough', 'reject'] },
  wsdl: mapping({ technicalAccount: optionalText }),
  integrations: {
    type: 'array',
    items: mapping({
      name: text,
      mode: { enum: ['ims', 'passthrough'] },
      login: text,
      passwordHash: text,
      networks: addressList,
      clientCertificates: { type: 'array', items: mapping({ subject: text, sha256: text }) },
      technicalAccount: {
        type: ['string', 'object'],
        expected: 'a technical account name, or a mapping of Campaign instance names to technical account names',
        minLength: 1,
        additionalProperties: text,
      },
      allowedMethods: { type: 'array', items: text },
      allowedPaths: { type: 'array', items: text },
    }, ['name']),
  },
  trustedProxies: addressList,
  limits: mapping({
    maxBodyBytes: size,
    replayLimitBytes: size,
    headBytes: size,
    maxHeaderBytes: size,
    maxConcurrentRequests: { type: 'integer', minimum: 1 },
    queueDepth: { type: 'integer', minimum: 0 },
    queueTimeoutSeconds: seconds,
    maxConcurrentRequestsTotal: { type: 'integer', minimum: 1 },
    maxUnidentifiedRequests: { type: 'integer', minimum: 1 },
    unidentifiedConnections: { type: 'integer', minimum: 1 },
    responseIdleTimeoutSeconds: seconds,
    maxPipelinedRequests: { type: 'integer', minimum: 1 },
    requestTimeoutSeconds: seconds,
    headersTimeoutSeconds: seconds,
    keepAliveTimeoutSeconds: seconds,
    maxConcurrentPasswordChecks: { type: 'integer', minimum: 1 },
    passwordCheckQueueDepth: { type: 'integer', minimum: 0 },
    passwordCheckQueueDepthPerLogin: { type: 'integer', minimum: 0 },
  }),
  lockout: mapping({
    maxFailures: { type: 'integer', minimum: 1 },
    windowSeconds: seconds,
    lockSeconds: seconds,
    loginMaxFailures: { type: 'integer', minimum: 1 },
  }),
  logging: mapping({ level: { enum: [...LOG_LEVELS] } }),
  store: mapping({
    redis: mapping({
      url: text,
      username: text,
      password: secret,
      caFile: optionalText,
      keyPrefix: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,64}$' },
      timeoutSeconds: seconds,
      inventoryFlushSeconds: seconds,
    }, ['url']),
  }),
})

const ajv = new Ajv({
  allErrors: true,
  // Values interpolated from the environment are strings: `port: ${PROXY_PORT:-8080}`.
  coerceTypes: true,
  allowUnionTypes: true,
  verbose: true,
})
// `expected`: how a type error names the accepted forms of a union.
ajv.addVocabulary(['expected'])
const validate = ajv.compile(CONFIG_SCHEMA)

/**
 * Schema problems of `data`, which is coerced in place (numeric strings to
 * numbers where the schema wants numbers). One problem per path: the first
 * (`0.5` is reported as not an integer, not also as below a minimum).
 */
export function checkSchema (data: Record<string, unknown>): Problem[] {
  validate(data)
  const byPath = new Map<string, Problem>()
  for (const error of validate.errors ?? []) {
    const problem = problemOf(error, data)
    const key = formatPath(problem.path)
    if (!byPath.has(key)) byPath.set(key, problem)
  }
  return [...byPath.values()]
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  object: 'a mapping',
  array: 'a list',
}

function problemOf (error: ErrorObject, data: unknown): Problem {
  const path = pathOf(error.instancePath, data)
  const params = error.params as Record<string, unknown>
  const schema = error.parentSchema as SchemaObject
  switch (error.keyword) {
    case 'required':
      return { path: [...path, String(params.missingProperty)], message: 'is required' }
    case 'additionalProperties': {
      const key = String(params.additionalProperty)
      const suggestion = closest(key, Object.keys(schema.properties as object))
      return { path: [...path, key], message: `unknown key${suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`}` }
    }
    case 'type':
      return { path, message: `must be ${String(schema.expected ?? TYPE_WORDS[String(params.type)])}` }
    case 'enum':
      return { path, message: `must be one of: ${(params.allowedValues as unknown[]).join(', ')}` }
    case 'minLength':
      return { path, message: 'must not be empty' }
    case 'minItems':
      return { path, message: 'must list at least one entry' }
    default:
      // minimum, maximum, exclusiveMinimum, exclusiveMaximum: Ajv says "must be >= 0".
      return { path, message: String(error.message) }
  }
}

/** JSON pointer to path segments, list indexes as numbers. */
function pathOf (pointer: string, data: unknown): (string | number)[] {
  const path: (string | number)[] = []
  let node = data
  for (const escaped of pointer.split('/').slice(1)) {
    const key = escaped.replaceAll('~1', '/').replaceAll('~0', '~')
    path.push(Array.isArray(node) ? Number(key) : key)
    node = (node as Record<string, unknown>)[key]
  }
  return path
}

/** The known key a typo most likely meant: at most 2 edits away, or a quarter of the key's length for long keys. */
function closest (key: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase())
    const tolerance = Math.max(2, Math.floor(Math.max(key.length, candidate.length) / 4))
    if (distance <= tolerance && distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

function editDistance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution))
    }
    previous = current
  }
  return previous[b.length] as number
}
