// config/example.yaml and config/default.yaml load with the values they document.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { loadConfig } from '../../src/config/load.js'
import { HASH, parse, problemsOf, tempDir, writeFiles } from '../fixtures/config.js'

const CONFIG_DIR = join(import.meta.dirname, '..', '..', 'config')
const SCOPES = ['AdobeID', 'openid', 'campaign_sdk', 'additional_info.projectedProductContext']

t.test('example.yaml loads with a small environment', async t => {
  const dir = await tempDir(t)
  const files = await writeFiles(dir, { marketing: 'm-secret\n', mc: 'mc-secret\n', session: `${'s'.repeat(48)}\n` })
  const env = {
    MARKETING_CLIENT_ID: 'marketing-id',
    MARKETING_CLIENT_SECRET_FILE: files.marketing,
    MC_CLIENT_ID: 'mc-id',
    MC_CLIENT_SECRET_FILE: files.mc,
    PROXY_SESSION_SECRET_FILE: files.session,
    ETL_PASSWORD_HASH: HASH,
  }
  const config = await loadConfig(join(CONFIG_DIR, 'example.yaml'), env)
  t.same({ ...config, technicalAccounts: [...config.technicalAccounts], campaigns: [...config.campaigns] }, {
    listen: { host: '0.0.0.0', port: 8080 },
    admin: { host: '0.0.0.0', port: 9464 },
    campaign: { url: 'https://acme-mkt-prod1.campaign.adobe.com', timeoutSeconds: 120, connectTimeoutSeconds: 10, caFile: undefined, maxConnections: 64 },
    campaigns: [['default', { name: 'default', url: 'https://acme-mkt-prod1.campaign.adobe.com', timeoutSeconds: 120, connectTimeoutSeconds: 10, caFile: undefined, maxConnections: 64, listen: undefined, hosts: [] }]],
    defaultCampaign: 'default',
    ims: {
      tokenUrl: 'https://ims-na1.adobelogin.com/ims/token/v3',
      timeoutSeconds: 10,
      refreshRatio: 0.8,
      expirySkewSeconds: 60,
      backoff: { initialSeconds: 1, maxSeconds: 60 },
      caFile: undefined,
    },
    technicalAccounts: [
      ['marketing', { name: 'marketing', clientId: 'marketing-id', clientSecret: { kind: 'file', path: files.marketing }, scopes: SCOPES }],
      ['messagecenter', { name: 'messagecenter', clientId: 'mc-id', clientSecret: { kind: 'file', path: files.mc }, scopes: SCOPES }],
    ],
    sessions: { secret: { kind: 'file', path: files.session }, ttlSeconds: 86400 },
    unknownCallers: 'passthrough',
    wsdl: { technicalAccount: 'marketing' },
    integrations: [
      { name: 'nightly-etl', mode: 'ims', login: 'etl_operator', passwordHash: HASH, networks: [], clientCertificates: [], technicalAccount: 'marketing' },
      { name: 'website-events', mode: 'ims', login: undefined, passwordHash: undefined, networks: ['10.20.0.0/16', '2001:db8:20::/48'], clientCertificates: [], technicalAccount: 'messagecenter' },
      { name: 'crm-sync', mode: 'passthrough', login: 'crm_operator', passwordHash: undefined, networks: ['10.30.4.0/24'], clientCertificates: [], technicalAccount: undefined },
    ],
    trustedProxies: [],
    limits: { maxBodyBytes: 1073741824, replayLimitBytes: 1048576, headBytes: 65536, maxHeaderBytes: 16384, maxConcurrentRequests: 1024, queueDepth: 1024, queueTimeoutSeconds: 5, maxConcurrentRequestsTotal: 4096, maxUnidentifiedRequests: 256, unidentifiedConnections: 16, responseIdleTimeoutSeconds: 30, maxPipelinedRequests: 32, requestTimeoutSeconds: 300, headersTimeoutSeconds: 30, keepAliveTimeoutSeconds: 72, maxConcurrentPasswordChecks: 2, passwordCheckQueueDepth: 32, passwordCheckQueueDepthPerLogin: 8 },
    lockout: { maxFailures: 3, windowSeconds: 600, lockSeconds: 300, loginMaxFailures: 20 },
    logging: { level: 'info' },
    store: { redis: undefined },
  }, 'every documented value, each equal to its default where the comment says so')
})

t.test('example.yaml names what an empty environment lacks', async t => {
  const yaml = await readFile(join(CONFIG_DIR, 'example.yaml'), 'utf8')
  t.same(problemsOf(yaml, { env: { MARKETING_CLIENT_SECRET_FILE: '/dev/null/x', MC_CLIENT_SECRET_FILE: '/dev/null/x', PROXY_SESSION_SECRET_FILE: '/dev/null/x' } }), [
    'technicalAccounts.marketing.clientId: environment variable MARKETING_CLIENT_ID is not set',
    'technicalAccounts.marketing.clientSecret.file: cannot read /dev/null/x (ENOTDIR)',
    'technicalAccounts.messagecenter.clientId: environment variable MC_CLIENT_ID is not set',
    'technicalAccounts.messagecenter.clientSecret.file: cannot read /dev/null/x (ENOTDIR)',
    'sessions.secret.file: cannot read /dev/null/x (ENOTDIR)',
    'integrations[0].passwordHash: environment variable ETL_PASSWORD_HASH is not set',
  ], 'each missing variable and unreadable secret file, in document order')
})

t.test('default.yaml: required variables and secret files only', async t => {
  const dir = await tempDir(t)
  const files = await writeFiles(dir, { client: 'c-secret', session: 's'.repeat(48) })
  const yaml = await readFile(join(CONFIG_DIR, 'default.yaml'), 'utf8')
  const env = {
    CAMPAIGN_URL: 'https://acme-mkt-prod1.campaign.adobe.com',
    IMS_CLIENT_ID: 'client-id',
    IMS_CLIENT_SECRET_FILE: files.client,
    PROXY_SESSION_SECRET_FILE: files.session,
  }
  const config = parse(yaml, { env })
  t.same({ ...config, technicalAccounts: [...config.technicalAccounts], campaigns: [...config.campaigns] }, {
    listen: { host: '0.0.0.0', port: 8080 },
    admin: { host: '0.0.0.0', port: 9464 },
    campaign: { url: 'https://acme-mkt-prod1.campaign.adobe.com', timeoutSeconds: 120, connectTimeoutSeconds: 10, caFile: undefined, maxConnections: 64 },
    campaigns: [['default', { name: 'default', url: 'https://acme-mkt-prod1.campaign.adobe.com', timeoutSeconds: 120, connectTimeoutSeconds: 10, caFile: undefined, maxConnections: 64, listen: undefined, hosts: [] }]],
    defaultCampaign: 'default',
    ims: {
      tokenUrl: 'https://ims-na1.adobelogin.com/ims/token/v3',
      timeoutSeconds: 10,
      refreshRatio: 0.8,
      expirySkewSeconds: 60,
      backoff: { initialSeconds: 1, maxSeconds: 60 },
      caFile: undefined,
    },
    technicalAccounts: [['main', { name: 'main', clientId: 'client-id', clientSecret: { kind: 'file', path: files.client }, scopes: SCOPES }]],
    sessions: { secret: { kind: 'file', path: files.session }, ttlSeconds: 86400 },
    unknownCallers: 'passthrough',
    wsdl: { technicalAccount: undefined },
    integrations: [
      { name: 'sidecar-app', mode: 'ims', login: undefined, passwordHash: undefined, networks: ['127.0.0.1/32', '::1/128'], clientCertificates: [], technicalAccount: 'main' },
    ],
    trustedProxies: [],
    limits: { maxBodyBytes: 1073741824, replayLimitBytes: 1048576, headBytes: 65536, maxHeaderBytes: 16384, maxConcurrentRequests: 1024, queueDepth: 1024, queueTimeoutSeconds: 5, maxConcurrentRequestsTotal: 4096, maxUnidentifiedRequests: 256, unidentifiedConnections: 16, responseIdleTimeoutSeconds: 30, maxPipelinedRequests: 32, requestTimeoutSeconds: 300, headersTimeoutSeconds: 30, keepAliveTimeoutSeconds: 72, maxConcurrentPasswordChecks: 2, passwordCheckQueueDepth: 32, passwordCheckQueueDepthPerLogin: 8 },
    lockout: { maxFailures: 3, windowSeconds: 600, lockSeconds: 300, loginMaxFailures: 20 },
    logging: { level: 'info' },
    store: { redis: undefined },
  }, 'the sidecar defaults: loopback callers mapped to the one account')

  const tuned = parse(yaml, {
    env: {
      ...env,
      PROXY_HOST: '::',
      PROXY_PORT: '18080',
      ADMIN_HOST: '127.0.0.1',
      ADMIN_PORT: '19464',
      CAMPAIGN_TIMEOUT_SECONDS: '600',
      CAMPAIGN_CA_FILE: files.client,
      IMS_TOKEN_URL: 'http://127.0.0.1:8081/ims/token/v3',
      UNKNOWN_CALLERS: 'reject',
      WSDL_TECHNICAL_ACCOUNT: 'main',
      INTEGRATION_NAME: 'billing-app',
      MAX_BODY_SIZE: '100MiB',
      LOG_LEVEL: 'debug',
    },
  })
  t.same([tuned.listen, tuned.admin, tuned.campaign.timeoutSeconds, tuned.campaign.caFile, tuned.ims.tokenUrl, tuned.unknownCallers, tuned.wsdl.technicalAccount,
    tuned.integrations[0]?.name, tuned.limits.maxBodyBytes, tuned.logging.level], [
    { host: '::', port: 18080 }, { host: '127.0.0.1', port: 19464 }, 600, files.client, 'http://127.0.0.1:8081/ims/token/v3', 'reject', 'main',
    'billing-app', 104857600, 'debug',
  ], 'every optional variable takes effect, ports and sizes from strings')

  t.same(problemsOf(yaml, { env: { IMS_CLIENT_SECRET_FILE: files.client, PROXY_SESSION_SECRET_FILE: files.session } }), [
    'campaign.url: environment variable CAMPAIGN_URL is not set',
    'technicalAccounts.main.clientId: environment variable IMS_CLIENT_ID is not set',
  ], 'the two required variables are named when missing')
})
