// Defaults: a configuration naming only campaign.url gets every other value from DEFAULTS.
import t from 'tap'
import { DEFAULTS, LOG_LEVELS } from '../../src/config/schema.js'
import { MINIMAL, parse, problemsOf } from '../fixtures/config.js'

t.test('a minimal configuration is completed with every default', async t => {
  const config = parse(MINIMAL)
  t.same(config, {
    listen: { host: '0.0.0.0', port: 8080 },
    admin: { host: '0.0.0.0', port: 9464 },
    campaign: {
      url: 'https://acme-mkt-prod1.campaign.adobe.com',
      timeoutSeconds: 120,
      connectTimeoutSeconds: 10,
      caFile: undefined,
      maxConnections: 64,
    },
    campaigns: new Map([['default', { name: 'default', url: 'https://acme-mkt-prod1.campaign.adobe.com', timeoutSeconds: 120, connectTimeoutSeconds: 10, caFile: undefined, maxConnections: 64, listen: undefined, hosts: [] }]]),
    defaultCampaign: 'default',
    ims: {
      tokenUrl: 'https://ims-na1.adobelogin.com/ims/token/v3',
      timeoutSeconds: 10,
      refreshRatio: 0.8,
      expirySkewSeconds: 60,
      backoff: { initialSeconds: 1, maxSeconds: 60 },
      caFile: undefined,
    },
    technicalAccounts: new Map(),
    sessions: { secret: undefined, ttlSeconds: 86400 },
    unknownCallers: 'passthrough',
    wsdl: { technicalAccount: undefined },
    integrations: [],
    trustedProxies: [],
    limits: { maxBodyBytes: 1073741824, replayLimitBytes: 1048576, headBytes: 65536, maxHeaderBytes: 16384, maxConcurrentRequests: 1024, queueDepth: 1024, queueTimeoutSeconds: 5, maxConcurrentRequestsTotal: 4096, maxUnidentifiedRequests: 256, unidentifiedConnections: 16, responseIdleTimeoutSeconds: 30, maxPipelinedRequests: 32, requestTimeoutSeconds: 300, headersTimeoutSeconds: 30, keepAliveTimeoutSeconds: 72, maxConcurrentPasswordChecks: 2, passwordCheckQueueDepth: 32, passwordCheckQueueDepthPerLogin: 8 },
    lockout: { maxFailures: 3, windowSeconds: 600, lockSeconds: 300, loginMaxFailures: 20 },
    logging: { level: 'info' },
    store: { redis: undefined },
  }, 'every key the file leaves out has its documented default')
  t.equal(config.technicalAccounts.size, 0, 'no technical account is invented')
})

t.test('an empty document is refused for its missing campaign.url, nothing else', async t => {
  t.same(problemsOf(''), ['campaign: is required'], 'only campaign is required')
  t.same(problemsOf('# just a comment\n'), ['campaign: is required'], 'a document of comments is empty too')
})

t.test('DEFAULTS: the named constants, frozen', async t => {
  t.same(DEFAULTS, {
    listen: { host: '0.0.0.0', port: 8080 },
    admin: { host: '0.0.0.0', port: 9464 },
    campaign: { timeoutSeconds: 120, connectTimeoutSeconds: 10, maxConnections: 64 },
    ims: {
      tokenUrl: 'https://ims-na1.adobelogin.com/ims/token/v3',
      timeoutSeconds: 10,
      refreshRatio: 0.8,
      expirySkewSeconds: 60,
      backoff: { initialSeconds: 1, maxSeconds: 60 },
    },
    sessions: { ttlSeconds: 86400 },
    unknownCallers: 'passthrough',
    integrationMode: 'ims',
    limits: { maxBodyBytes: 1073741824, replayLimitBytes: 1048576, headBytes: 65536, maxHeaderBytes: 16384, maxConcurrentRequests: 1024, queueDepth: 1024, queueTimeoutSeconds: 5, maxConcurrentRequestsTotal: 4096, maxUnidentifiedRequests: 256, unidentifiedConnections: 16, responseIdleTimeoutSeconds: 30, maxPipelinedRequests: 32, requestTimeoutSeconds: 300, headersTimeoutSeconds: 30, keepAliveTimeoutSeconds: 72, maxConcurrentPasswordChecks: 2, passwordCheckQueueDepth: 32, passwordCheckQueueDepthPerLogin: 8 },
    lockout: { maxFailures: 3, windowSeconds: 600, lockSeconds: 300, loginMaxFailures: 20 },
    clientCertificates: 'none',
    logging: { level: 'info' },
    store: { keyPrefix: 'campaign-ims-proxy:', timeoutSeconds: 0.5, inventoryFlushSeconds: 1 },
  }, 'the defaults the brief and the documentation list')
  t.ok(Object.isFrozen(DEFAULTS) && Object.isFrozen(DEFAULTS.ims.backoff), 'DEFAULTS cannot be altered by a consumer')
  t.same(LOG_LEVELS, ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], "pino's levels")
})

t.test('integration defaults: mode ims, no networks', async t => {
  const config = parse(`${MINIMAL}technicalAccounts:
  main: { clientId: id, clientSecret: s, scopes: [openid] }
integrations:
  - name: app
    networks: [127.0.0.1]
    technicalAccount: main
`)
  t.same(config.integrations, [{
    name: 'app',
    mode: 'ims',
    login: undefined,
    passwordHash: undefined,
    networks: ['127.0.0.1/32'],
    clientCertificates: [],
    technicalAccount: 'main',
  }], 'mode defaults to ims; absent login and hash are undefined; the address becomes a /32 block')
  t.same([...config.technicalAccounts], [['main', { name: 'main', clientId: 'id', clientSecret: { kind: 'value', value: 's' }, scopes: ['openid'] }]],
    'the account carries its own name and an inline secret source')
})
