// Acceptance (deployment): three replicas sharing one sessions.secret in
// front of one Campaign; a client logs on through one and calls through all
// three round-robin. No shared store: each replica verifies the session
// itself and holds its own IMS token.
import { pino } from 'pino'
import t from 'tap'
import { hashPassword } from '../../src/auth/passwords.js'
import { parseConfig } from '../../src/config/load.js'
import { startServer, type RunningServer } from '../../src/server.js'
import { CampaignSimulator } from '../../src/sim/campaign.js'
import { ImsSimulator } from '../../src/sim/ims.js'
import { soapPost } from '../fixtures/http.js'
import { ACCOUNTS } from '../fixtures/proxy-stack.js'
import { outputText, soapEnvelope } from '../fixtures/soap.js'

const REPLICAS = 3
const PASSWORD = 'replica-pw'

t.test('a session from one replica works on every replica; one token request per replica per account', async t => {
  const ims = await ImsSimulator.start({ clients: Object.values(ACCOUNTS) })
  const campaign = await CampaignSimulator.start({ authority: ims.authority, strict: true, imsMandatory: true })
  t.teardown(async () => { await Promise.all([ims.close(), campaign.close()]) })
  const hash = await hashPassword(PASSWORD, { N: 1024 })
  const yaml = `
listen: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
campaign: { url: '${campaign.url}' }
ims: { tokenUrl: '${ims.tokenUrl}' }
technicalAccounts:
  marketing: { clientId: marketing-client, clientSecret: marketing-secret, scopes: [AdobeID, openid, campaign_sdk] }
sessions: { secret: shared-by-every-replica-0123456789abcdef }
unknownCallers: reject
integrations:
  - { name: nightly-etl, login: etl_operator, passwordHash: '${hash}', technicalAccount: marketing }
`
  const replicas: RunningServer[] = []
  for (let i = 0; i < REPLICAS; i++) {
    const server = await startServer(parseConfig(yaml, { source: `replica-${i}`, env: {} }), pino({ level: 'silent' }))
    t.teardown(() => server.close())
    replicas.push(server)
  }
  const router = (i: number): string => `${(replicas[i % REPLICAS] as RunningServer).proxyUrl}/nl/jsp/soaprouter.jsp`
  const logon = await soapPost(router(0), soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', 'etl_operator'], ['password', PASSWORD], ['parameters', { xml: '' }]] }), {}, 'xtk:session#Logon')
  const session = outputText(logon.text, 'pstrSessionToken') as string
  t.match(session, /^___/, 'logged on through replica 1')
  const statuses: number[] = []
  for (let i = 0; i < 3 * REPLICAS; i++) {
    const call = await soapPost(router(i), soapEnvelope({ schema: 'xtk:session', method: 'GetOption', sessionToken: session, params: [['name', 'XtkDatabaseId']] }), {}, 'xtk:session#GetOption')
    statuses.push(call.status)
  }
  t.same(statuses, Array.from({ length: 3 * REPLICAS }, () => 200), `${3 * REPLICAS} calls round-robin over ${REPLICAS} replicas all succeed`)
  const bearers = new Set(campaign.requests.filter(r => r.soapMethod === 'xtk:session#GetOption').map(r => r.headers.authorization))
  t.equal(bearers.size, REPLICAS, 'each replica used its own token')
  t.equal(ims.tokenRequests('marketing-client'), REPLICAS, `token requests: one per replica for the one account (${REPLICAS})`)
})
