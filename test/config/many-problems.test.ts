// A configuration with many problems is refused once, listing all of them in document order.
import { join } from 'node:path'
import t from 'tap'
import { errorOf, tempDir } from '../fixtures/config.js'

t.test('one ConfigError lists every problem, schema and semantic, by path', async t => {
  const dir = await tempDir(t)
  const yaml = `listen:
  host: 0.0.0.0
  port: 8080
admin:
  port: \${ADMIN_PORT:-8080}
campaign:
  url: http://acme-mkt-prod1.campaign.adobe.com/nl/jsp/soaprouter.jsp
  timeoutSecs: 60
ims:
  refreshRatio: 1.2
technicalAccounts:
  marketing:
    clientId: \${IMS_CLIENT_ID}
    clientSecret:
      file: missing-secret
    scopes: [openid]
sessions:
  secret: too-short
unknownCallers: deny
wsdl:
  technicalAccount: marketting
integrations:
  - name: crm-sync
    login: crm_operator
    technicalAccount: marketing
  - name: website-events
    networks: [10.1.2.3/16, 10.2.0.0/16]
    technicalAccount: marketing
  - name: nightly-etl
    login: crm_operator
    mode: passthrough
    passwordHash: "scrypt$abc"
trustedProxies: [lb.internal]
limits:
  replayLimitBytes: 2GiB
logging:
  level: verbose
`
  const error = errorOf(yaml, { env: {}, baseDir: dir })
  t.equal(error.message, `invalid configuration (test.yaml):
  admin.port: the admin listener 0.0.0.0:8080 overlaps the proxy listener 0.0.0.0:8080 (listen): give it another port
  campaign.url: uses http: TLS is required (plain http is allowed only for loopback hosts: 127.0.0.0/8, ::1, localhost)
  campaign.url: must not have a path (/nl/jsp/soaprouter.jsp): requests keep their own path
  campaign.timeoutSecs: unknown key (did you mean timeoutSeconds?)
  ims.refreshRatio: must be < 1
  technicalAccounts.marketing.clientId: environment variable IMS_CLIENT_ID is not set
  technicalAccounts.marketing.clientSecret.file: cannot read ${join(dir, 'missing-secret')} (ENOENT)
  sessions.secret: must be at least 32 characters (for example \`openssl rand -base64 48\`)
  unknownCallers: must be one of: passthrough, reject
  wsdl.technicalAccount: names technical account "marketting", which is not defined in technicalAccounts
  integrations[0].passwordHash: is required with a login in ims mode: create it with \`campaign-ims-proxy hash-password\`
  integrations[1].networks[0]: has host bits set: the block is 10.1.0.0/16
  integrations[2].login: login "crm_operator" is already used by integrations[0]
  integrations[2].passwordHash: is not used in passthrough mode (calls are forwarded untouched): remove it, or set mode: ims
  trustedProxies[0]: is not an IP address or CIDR block (examples: 10.1.0.0/16, 192.0.2.7, 2001:db8::/32)
  limits.replayLimitBytes: must not exceed limits.maxBodyBytes (1073741824)
  logging.level: must be one of: fatal, error, warn, info, debug, trace, silent`,
  'seventeen problems from every stage, in the order of the file, in one message')
  t.equal(error.problems.length, 17, 'problems holds them one by one')
})
