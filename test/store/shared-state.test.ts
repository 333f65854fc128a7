// Two proxy processes sharing a real redis-server (store.redis): a Logoff
// through one is refused by the other; failed logons spread over both lock
// the login; /integrations is the same on both; the store stopped mid-run
// leaves traffic and sessions working, and sharing resumes once it is back.
import { randomBytes } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import t from 'tap'
import { hashPassword } from '../../src/auth/passwords.js'
import { CampaignSimulator } from '../../src/sim/campaign.js'
import { ImsSimulator } from '../../src/sim/ims.js'
import { PROXY_FAULTS } from '../../src/soap/faults.js'
import { send, soapPost, type HttpResult } from '../fixtures/http.js'
import { ACCOUNTS } from '../fixtures/proxy-stack.js'
import { startProxyProcess, type ProxyProcess } from '../fixtures/proxy-process.js'
import { redisServerMissing, startRedisServer } from '../fixtures/redis-server.js'
import { outputText, soapEnvelope } from '../fixtures/soap.js'
import { eventually } from '../fixtures/wait.js'

t.setTimeout(240_000)

const PASSWORD = 'shared-store-pw'

const missing = redisServerMissing(t)
if (missing !== false) {
  t.test('two replicas sharing a redis-server', { skip: missing }, async () => {})
} else {
  const redis = await startRedisServer(t)
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
lockout: { maxFailures: 3, windowSeconds: 600, lockSeconds: 300 }
store:
  redis: { url: '${redis.url}', keyPrefix: 'test-${randomBytes(4).toString('hex')}:', inventoryFlushSeconds: 0.2 }
integrations:
  - { name: nightly-etl, login: etl_operator, passwordHash: '${hash}', technicalAccount: marketing }
  - { name: website, login: web_operator, passwordHash: '${hash}', technicalAccount: marketing }
  - { name: crm-sync, mode: passthrough, login: admin }
`
  const a = await startProxyProcess(t, yaml)
  const b = await startProxyProcess(t, yaml)

  const logon = (replica: ProxyProcess, login: string, password: string): Promise<HttpResult> =>
    soapPost(`${replica.proxyUrl}/nl/jsp/soaprouter.jsp`, soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', login], ['password', password], ['parameters', { xml: '' }]] }), {}, 'xtk:session#Logon')
  const session = async (replica: ProxyProcess): Promise<string> => {
    const answer = await logon(replica, 'etl_operator', PASSWORD)
    t.equal(answer.status, 200, 'logs on')
    return outputText(answer.text, 'pstrSessionToken') ?? ''
  }
  const getOption = (replica: ProxyProcess, token: string): Promise<HttpResult> =>
    soapPost(`${replica.proxyUrl}/nl/jsp/soaprouter.jsp`, soapEnvelope({ schema: 'xtk:session', method: 'GetOption', sessionToken: token, params: [['name', 'XtkDatabaseId']] }), {}, 'xtk:session#GetOption')
  const logoff = (replica: ProxyProcess, token: string): Promise<HttpResult> =>
    soapPost(`${replica.proxyUrl}/nl/jsp/soaprouter.jsp`, soapEnvelope({ schema: 'xtk:session', method: 'Logoff', sessionToken: token, params: [] }), {}, 'xtk:session#Logoff')
  const metric = async (replica: ProxyProcess, series: string): Promise<number> => {
    const line = (await send(`${replica.adminUrl}/metrics`)).text.split('\n').find(l => l.startsWith(`${series} `))
    return line === undefined ? 0 : Number(line.slice(series.length + 1))
  }
  const readiness = async (replica: ProxyProcess): Promise<{ status: number, store: { state: string } | undefined }> => {
    const answer = await send(`${replica.adminUrl}/readyz`)
    return { status: answer.status, store: (JSON.parse(answer.text) as { store?: { state: string } }).store }
  }
  const inventoryOf = async (replica: ProxyProcess): Promise<{ scope: string, integrations: Array<{ name: string, calls: number, methods: Record<string, number> }>, unknownCallers: unknown[] }> => {
    const { generatedAt: _, ...rest } = JSON.parse((await send(`${replica.adminUrl}/integrations`)).text) as { generatedAt: string, scope: string, integrations: Array<{ name: string, calls: number, methods: Record<string, number> }>, unknownCallers: unknown[] }
    return rest
  }
  await eventually(async () => (await readiness(a)).store?.state === 'ok' && (await readiness(b)).store?.state === 'ok', 'both replicas reaching the store')

  t.test('a Logoff through one replica: the session is refused by the other', async t => {
    const token = await session(a)
    t.equal((await getOption(b, token)).status, 200, 'the session from replica A works on replica B')
    t.equal((await logoff(a, token)).status, 200, 'logged off through A')
    t.equal((await getOption(a, token)).status, 500, 'A refuses it at once')
    const elapsed = await eventually(async () => (await getOption(b, token)).status === 500, 'replica B refusing the logged-off session')
    const refused = await getOption(b, token)
    t.match(refused.text, PROXY_FAULTS.sessionInvalid.message, `B refuses it with Campaign's session fault (after ${elapsed} ms)`)
    t.ok(await metric(b, 'campaign_ims_proxy_store_events_total{direction="received",kind="revoked"}') >= 1, 'B counts the revocation it received')
  })

  t.test('failed logons spread over both replicas lock the login', async t => {
    const failedOn = async (replica: ProxyProcess, what: string): Promise<void> => {
      const answer = await logon(replica, 'web_operator', 'wrong-password')
      t.match(answer.text, PROXY_FAULTS.invalidLogin.message, what)
    }
    const received = async (replica: ProxyProcess): Promise<number> => await metric(replica, 'campaign_ims_proxy_store_events_total{direction="received",kind="failed"}')
    const before = await received(b)
    await failedOn(a, 'a first wrong password on A')
    await failedOn(a, 'a second on A')
    await eventually(async () => await received(b) >= before + 2, 'B hearing of the two failures on A')
    await failedOn(b, 'a third on B: three within the window, from one address, over two replicas')
    const right = await logon(b, 'web_operator', PASSWORD)
    t.match(right.text, PROXY_FAULTS.invalidLogin.message, 'the right password is now refused on B: the login is locked there')
    await eventually(async () => await received(a) >= 1, 'A hearing of the failure on B')
    const onA = await logon(a, 'web_operator', PASSWORD)
    t.match(onA.text, PROXY_FAULTS.invalidLogin.message, 'and on A')
    t.equal(await metric(b, 'campaign_ims_proxy_logons_total{integration="website",result="locked"}'), 1, 'B counts its locked answer')
  })

  t.test('/integrations shows the same cluster on both replicas', async t => {
    const token = await session(a)
    for (let i = 0; i < 3; i++) t.equal((await getOption(i % 2 === 0 ? a : b, token)).status, 200, `call ${i + 1} through ${i % 2 === 0 ? 'A' : 'B'}`)
    // A passthrough Logon on A: the session Campaign gives it attributes its calls on B too.
    const native = await logon(a, 'admin', 'admin')
    const nativeSession = outputText(native.text, 'pstrSessionToken') ?? ''
    t.match(nativeSession, /^___/, 'Campaign answers the passthrough Logon through A')
    const remembered = async (): Promise<number> => await metric(b, 'campaign_ims_proxy_store_events_total{direction="received",kind="remembered"}')
    await eventually(async () => await remembered() >= 1, 'B hearing of the session Campaign issued through A')
    t.equal((await getOption(b, nativeSession)).status, 200, 'the passthrough call through B is served')
    const expected = {
      'nightly-etl': { 'xtk:session#Logon': 2, 'xtk:session#GetOption': 4, 'xtk:session#Logoff': 1 },
      'crm-sync': { 'xtk:session#Logon': 1, 'xtk:session#GetOption': 1 },
    }
    const methodsOf = (inventory: Awaited<ReturnType<typeof inventoryOf>>): Record<string, Record<string, number>> =>
      Object.fromEntries(inventory.integrations.filter(i => i.name in expected).map(i => [i.name, i.methods]))
    await eventually(async () => {
      const [onA, onB] = [await inventoryOf(a), await inventoryOf(b)]
      return isDeepStrictEqual(onA, onB) && isDeepStrictEqual(methodsOf(onA), expected)
    }, 'both inventories to agree on every call')
    const inventory = await inventoryOf(a)
    t.equal(inventory.scope, 'cluster', 'the inventory is the cluster\'s')
    t.same(inventory, await inventoryOf(b), 'identical on both replicas')
    t.same(methodsOf(inventory), expected, 'the calls of both replicas, each counted once; the passthrough call through B attributed to crm-sync by the session remembered on A')
  })

  t.test('the store stopped mid-run: traffic and sessions go on; sharing resumes when it is back', async t => {
    const token = await session(a)
    await redis.stop()
    await eventually(async () => (await readiness(a)).store?.state === 'degraded' && (await readiness(b)).store?.state === 'degraded', 'both replicas seeing the store down')
    const ready = await readiness(a)
    t.equal(ready.status, 200, '/readyz stays ready')
    t.equal(await metric(a, 'campaign_ims_proxy_store_up'), 0, 'store_up says the store is down')
    t.equal((await inventoryOf(a)).scope, 'replica', '/integrations is the replica\'s own while the store is down, and says so')
    for (const [replica, name] of [[a, 'A'], [b, 'B']] as const) {
      t.equal((await getOption(replica, token)).status, 200, `a session call through ${name} is served`)
    }
    const fresh = await session(b)
    t.equal((await getOption(a, fresh)).status, 200, 'a Logon on B while the store is down gives a session A accepts (HMAC)')
    t.equal((await logoff(b, fresh)).status, 200, 'a Logoff on B while the store is down')

    await redis.start()
    await eventually(async () => (await readiness(a)).store?.state === 'ok' && (await readiness(b)).store?.state === 'ok', 'both replicas reconnecting without a restart')
    t.equal(await metric(b, 'campaign_ims_proxy_store_up'), 1, 'store_up back to 1')
    await eventually(async () => (await getOption(a, fresh)).status === 500, 'the Logoff made during the outage reaching A once the store is back')
    t.pass('the Logoff kept while the store was away is applied by A')
    t.equal((await logoff(a, token)).status, 200, 'a Logoff on A after the restart')
    await eventually(async () => (await getOption(b, token)).status === 500, 'B refusing it: sharing resumed')
    t.pass('B refuses the session logged off on A after the restart')
    await eventually(async () => {
      const etl = (await inventoryOf(b)).integrations.find(i => i.name === 'nightly-etl')
      // Calls made while the store was down were kept and flushed (the restarted store is empty: only what followed the restart).
      return (etl?.methods['xtk:session#GetOption'] ?? 0) >= 3
    }, 'the counts kept during the outage reaching the restarted store')
    t.pass('counts recorded while the store was down reach it once it is back')
  })
}
