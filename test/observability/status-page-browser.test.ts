// Acceptance (migration status page, docs/operations.md#migration-status-page):
// the proxy in front of two Campaign simulators, scripted traffic from
// acc-js-sdk and raw HTTP, then the admin port's `/` loaded in Debian's
// Chromium: a person sees each integration under each instance with its
// mode and exact call counts, the unknown callers (a hostile login as its
// literal text, no script in the DOM, no dialog), and the token states.
//
// STATUS_PAGE_SCREENSHOT=docs/status-page.png writes the screenshot the
// docs show; a normal run writes nothing into the repository.
import sdk from '@adobe/acc-js-sdk'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Writable } from 'node:stream'
import { chromium, type Browser } from 'playwright-core'
import t, { type Test } from 'tap'
import { hashPassword } from '../../src/auth/passwords.js'
import { parseConfig } from '../../src/config/load.js'
import { createLogger } from '../../src/observability/logger.js'
import { startServer, type RunningServer } from '../../src/server.js'
import { CampaignSimulator } from '../../src/sim/campaign.js'
import { ImsSimulator } from '../../src/sim/ims.js'
import { send, type HttpResult } from '../fixtures/http.js'
import { ACCOUNTS } from '../fixtures/proxy-stack.js'
import { outputText, soapEnvelope } from '../fixtures/soap.js'

// Launching a browser on two busy cores takes a while: this file sets its own bound.
t.setTimeout(180_000)

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
/** Relative to the checkout, like the docs' own path. */
const SCREENSHOT = process.env.STATUS_PAGE_SCREENSHOT === undefined ? undefined : resolve(fileURLToPath(new URL('../../', import.meta.url)), process.env.STATUS_PAGE_SCREENSHOT)
const PASSWORD = 'status-page-pw'
const ROUTER = '/nl/jsp/soaprouter.jsp'
const HOSTILE = '<script>alert(1)</script>'
const HOSTILE_ATTRIBUTE = '"><img/src=x/onerror=alert(2)>'

const logon = (login: string, password: string): string => soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', login], ['password', password], ['parameters', { xml: '' }]] })
const getOption = (token: string): string => soapEnvelope({ schema: 'xtk:session', method: 'GetOption', sessionToken: token, params: [['name', 'XtkDatabaseId']] })
const pushEvent = soapEnvelope({ schema: 'nms:rtEvent', method: 'PushEvent', params: [['domEvent', { xml: '<rtEvent type="welcome" email="a@example.com"/>' }]] })

interface Stack {
  readonly server: RunningServer
  /** The SOAP router on each instance's own listener. */
  readonly mkt: string
  readonly mc: string
}

/** IMS, a marketing and a Message Center Campaign simulator, the proxy in front with an own listener per instance. */
async function startStack (t: Test): Promise<Stack> {
  const ims = await ImsSimulator.start({ clients: Object.values(ACCOUNTS) })
  const sim = async (instanceName: string): Promise<CampaignSimulator> => await CampaignSimulator.start({ authority: ims.authority, strict: true, imsMandatory: false, instanceName })
  const marketing = await sim('acme_mkt_prod1')
  const messageCenter = await sim('acme_rt_prod1')
  t.teardown(async () => { await Promise.all([ims.close(), marketing.close(), messageCenter.close()]) })
  const hash = await hashPassword(PASSWORD, { N: 1024 })
  const config = parseConfig(`
listen: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
campaigns:
  marketing: { url: '${marketing.url}', listen: { port: 0 } }
  messageCenter: { url: '${messageCenter.url}', listen: { port: 0 } }
ims: { tokenUrl: '${ims.tokenUrl}', timeoutSeconds: 5 }
technicalAccounts:
  marketing: { clientId: marketing-client, clientSecret: marketing-secret, scopes: [AdobeID, openid, campaign_sdk] }
  events: { clientId: events-client, clientSecret: events-secret, scopes: [AdobeID, openid, campaign_sdk] }
sessions: { secret: test-session-secret-0123456789abcdefghij }
integrations:
  - { name: nightly-etl, login: etl_operator, passwordHash: '${hash}', technicalAccount: marketing }
  - name: website-events
    networks: [127.0.0.2/32]
    technicalAccount: { marketing: marketing, messageCenter: events }
    allowedMethods: ['nms:rtEvent#*', 'xtk:queryDef#ExecuteQuery']
  - { name: crm-sync, mode: passthrough, login: crm_operator }
  - { name: mc-reporting, login: mc_reporter, passwordHash: '${hash}', technicalAccount: { messageCenter: events } }
`, { source: 'test', env: {} })
  const sink = new Writable({ write (_chunk, _enc, done) { done() } })
  const server = await startServer(config, createLogger('info', sink))
  t.teardown(() => server.close())
  await Promise.all([server.tokens.get('marketing'), server.tokens.get('events')])
  const own = (name: string): string => `${server.campaignListenerUrls.get(name) as string}${ROUTER}`
  return { server, mkt: own('marketing'), mc: own('messageCenter') }
}

/** The scripted traffic: acc-js-sdk for nightly-etl, raw HTTP for the others and the unknown callers. */
async function traffic (t: Test, s: Stack): Promise<void> {
  const post = (router: string, body: string, action: string, from = '127.0.0.1', headers = {}): Promise<HttpResult> =>
    send(router, { method: 'POST', localAddress: from, headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: action, ...headers }, body })
  const base = (router: string): string => router.slice(0, -ROUTER.length)

  // nightly-etl on marketing: a Logon, two calls, a Logoff; on Message Center: one call with login/password inline.
  // Each SDK connection also reads the xtk:session schema once (xtk:persist#GetEntityIfMoreRecent): 5 calls on marketing, 2 on Message Center.
  const etl = await sdk.init(sdk.ConnectionParameters.ofUserAndPassword(base(s.mkt), 'etl_operator', PASSWORD))
  await etl.logon()
  for (let i = 0; i < 2; i++) t.ok(await etl.getOption('XtkDatabaseId', false), 'nightly-etl reads an option on marketing')
  await etl.logoff()
  const inline = await sdk.init(sdk.ConnectionParameters.ofSessionToken(base(s.mc), `etl_operator/${PASSWORD}`))
  await inline.logon()
  t.ok(await inline.getOption('XtkDatabaseId', false), 'and one on Message Center, login/password inline')

  // website-events, by its network: three events on Message Center, one on marketing, one call outside its allowedMethods.
  for (let i = 0; i < 3; i++) t.equal((await post(s.mc, pushEvent, 'nms:rtEvent#PushEvent', '127.0.0.2')).status, 200, 'an event on Message Center')
  t.equal((await post(s.mkt, pushEvent, 'nms:rtEvent#PushEvent', '127.0.0.2')).status, 200, 'an event on marketing')
  t.equal((await post(s.mkt, getOption(''), 'xtk:session#GetOption', '127.0.0.2')).status, 403, 'a method it is not allowed is refused')

  // crm-sync (passthrough) on marketing: a native Logon and a call with Campaign's own session.
  const native = await post(s.mkt, logon('crm_operator', 'crm-password'), 'xtk:session#Logon', '127.0.0.4')
  const nativeSession = outputText(native.text, 'pstrSessionToken') as string
  t.equal((await post(s.mkt, getOption(nativeSession), 'xtk:session#GetOption', '127.0.0.4')).status, 200, 'crm-sync works with its native session')

  // Unknown callers: native Logons whose logins are markup.
  for (const login of [HOSTILE, HOSTILE_ATTRIBUTE]) t.equal((await post(s.mkt, logon(login, 'x'), 'xtk:session#Logon', '127.0.0.5')).status, 500, 'Campaign refuses an unknown login')
}

t.test('GET / on the admin port: HTML with its headers, the hostile login escaped', async t => {
  const s = await startStack(t)
  await traffic(t, s)
  const page = await send(`${s.server.adminUrl}/`)
  t.equal(page.status, 200)
  t.same([page.headers['content-type'], page.headers['content-security-policy'], page.headers['x-content-type-options'], page.headers['cache-control']],
    ['text/html; charset=utf-8', "default-src 'none'; style-src 'unsafe-inline'; img-src data:", 'nosniff', 'no-store'], 'HTML that may run nothing and load nothing, never cached')
  t.notMatch(page.text, /<script|<img/i, 'no script or img tag in the bytes')
  t.match(page.text, '<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>', 'the login is escaped text')
  t.match(page.text, '<code>&quot;&gt;&lt;img/src=x/onerror=alert(2)&gt;</code>', 'so is the other one')
  const proxied = await send(`${s.server.proxyUrl}/`)
  t.notMatch(proxied.text, 'Migration status', 'the proxy port does not serve it')
})

const hasChromium = existsSync(CHROMIUM)

t.test('the status page in Chromium: what a person sees', { skip: hasChromium || process.env.CI !== undefined ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)` }, async t => {
  if (!hasChromium) {
    t.fail(`no Chromium at ${CHROMIUM}: CI must install Debian's chromium (.ci/run does), or set CHROMIUM_PATH`)
    return
  }
  const s = await startStack(t)
  await traffic(t, s)

  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    timeout: 60_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  t.teardown(() => browser.close())
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } })
  const page = await context.newPage()
  page.setDefaultTimeout(30_000)
  const dialogs: string[] = []
  page.on('dialog', dialog => { dialogs.push(dialog.message()); dialog.dismiss().catch(() => undefined) })
  const response = await page.goto(`${s.server.adminUrl}/`, { waitUntil: 'load', timeout: 30_000 })
  t.equal(response?.status(), 200, 'the page loads')
  t.equal(await page.title(), 'Migration status · campaign-ims-proxy')

  t.equal(await page.innerText('#summary'), '4 integrations: 3 migrated (ims), 1 still on passthrough (legacy authentication); 2 unknown callers.', 'the summary line')

  /** The rows of a table as shown: the text of the given cells of each. */
  const table = async (rows: string, cells: readonly string[]): Promise<string[][]> => {
    const trs = page.locator(rows)
    const shown: string[][] = []
    for (let i = 0, n = await trs.count(); i < n; i++) shown.push(await Promise.all(cells.map(async c => (await trs.nth(i).locator(c).innerText()).trim())))
    return shown
  }
  /** Per instance: each row's name, mode badge, account and calls. */
  const rows = (instance: string): Promise<string[][]> => table(`section[data-instance="${instance}"] tbody tr`, ['th.name', 'td.mode', 'td.account', 'td.calls'])
  t.same(await rows('marketing'), [
    ['nightly-etl', 'ims · migrated', 'marketing', '5'],
    ['website-events', 'ims · migrated', 'marketing', '2'],
    ['crm-sync', 'passthrough · legacy authentication', 'none (its own Campaign login)', '2'],
  ], 'marketing: the integrations, their modes, accounts and exact calls there')
  t.same(await rows('messageCenter'), [
    ['nightly-etl', 'ims · migrated', 'marketing', '2'],
    ['website-events', 'ims · migrated', 'events', '3'],
    ['crm-sync', 'passthrough · legacy authentication', 'none (its own Campaign login)', '0'],
    ['mc-reporting', 'ims · migrated', 'events', '0'],
  ], 'Message Center: the same, and the integration configured for it only')

  const lines = (text: string): string[] => text.split('\n').map(line => line.trim()).filter(line => line !== '')
  const cell = (instance: string, integration: string, cls: string): Promise<string> => page.innerText(`section[data-instance="${instance}"] tr[data-integration="${integration}"] td.${cls}`)
  t.same((await cell('marketing', 'nightly-etl', 'auth-paths')).split('\n'), ['session 3', 'inline-password 2', 'logoff 1', 'logon 1'], 'how nightly-etl authenticated, on every instance, the most used first')
  t.same(lines(await cell('messageCenter', 'nightly-etl', 'method-lists')), [
    'allowed', 'all methods', 'used', 'xtk:session#GetOption 3', 'xtk:persist#GetEntityIfMoreRecent 2', 'xtk:session#Logoff 1', 'xtk:session#Logon 1', 'refused', '—', 'paths', 'all paths',
  ], 'and its methods: no allowedMethods, the SDK reading its xtk:session schema once per connection')
  t.same((await cell('marketing', 'crm-sync', 'auth-paths')).split('\n'), ['passthrough 2'], 'crm-sync still logs on natively')
  t.equal(await page.locator('section[data-instance="marketing"] tr[data-integration="mc-reporting"]').count(), 0, 'mc-reporting is not listed on marketing')
  t.equal(await cell('messageCenter', 'mc-reporting', 'last-seen'), 'never', 'nor seen anywhere')
  t.same(lines(await cell('marketing', 'website-events', 'method-lists')), ['allowed', 'nms:rtEvent#*', 'xtk:queryDef#ExecuteQuery unused', 'used', 'nms:rtEvent#PushEvent 4', 'refused', 'xtk:session#GetOption 1', 'paths', 'SOAP router and WSDL only'],
    'website-events: its allowed methods (one unused), the methods used, the call refused')

  const callers = await table('table.unknown-callers tbody tr', ['td.login', 'td.address', 'td.calls', 'td.auth-paths'])
  t.same(callers.sort((a, b) => String(a[0]).localeCompare(String(b[0]))), [
    [HOSTILE_ATTRIBUTE, '127.0.0.5', '1', 'passthrough 1'],
    [HOSTILE, '127.0.0.5', '1', 'passthrough 1'],
  ], 'the unknown callers, each hostile login shown as its literal text')
  t.equal((await page.$$('script')).length, 0, 'no script element in the DOM')
  t.equal((await page.$$('img')).length, 0, 'no img element either')
  t.same(dialogs, [], 'and no dialog ever opened')

  const accounts = await table('table.accounts tbody tr', ['th', 'td.token', 'td.last-error', 'td.used-on'])
  t.same(accounts, [['marketing', 'token', '—', 'marketing, messageCenter'], ['events', 'token', '—', 'messageCenter']], 'each technical account holds a token, and where it is used')
  t.match(await page.innerText('table.accounts tr[data-account="events"] td.expires'), /^\d{4}-\d\d-\d\dT\S+ \(in 23 h \d{1,2} min\)$/, 'when its token expires (a day after it was fetched), and in how long')

  if (SCREENSHOT !== undefined) {
    await page.screenshot({ path: SCREENSHOT, fullPage: true, timeout: 30_000 })
    t.pass(`screenshot written to ${SCREENSHOT}`)
  }
})
