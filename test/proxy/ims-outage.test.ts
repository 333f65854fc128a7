// Acceptance: IMS unavailable at start → readiness false and 503 +
// Retry-After with a clear fault; IMS recovers → traffic flows without a
// restart; IMS failing at refresh while the token is valid → no request fails.
import t from 'tap'
import { PROXY_FAULTS } from '../../src/soap/faults.js'
import { send, soapPost } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'
import { soapEnvelope } from '../fixtures/soap.js'
import { FakeScheduler } from '../fixtures/ims-harness.js'
import { until } from '../fixtures/wait.js'

const CALL = soapEnvelope({ schema: 'xtk:session', method: 'GetOption', params: [['name', 'XtkDatabaseId']] })

t.test('IMS down at start, recovery, then failing refreshes', async t => {
  const clock = new FakeScheduler()
  clock.now = Date.now()
  const s = await startProxyStack(t, {
    integrations: '  - { name: website, networks: [127.0.0.1/32], technicalAccount: events }',
    waitForTokens: false,
    hooks: { now: () => clock.now, timers: clock, random: () => 0.5 },
    beforeStart: async ({ ims }) => { await ims.refuseConnections(true) },
  })
  const events = (): { consecutiveFailures: number, hasToken: boolean } | undefined => s.server.tokens.status().find(a => a.account === 'events')
  await until(() => (events()?.consecutiveFailures ?? 0) >= 1, 'the first token request to fail')

  const notReady = await send(`${s.server.adminUrl}/readyz`)
  t.equal(notReady.status, 503, 'readiness is false')
  const detail = JSON.parse(notReady.text) as { status: string, accounts: { account: string, hasToken: boolean, lastError?: string }[] }
  t.equal(detail.status, 'not ready', 'says not ready')
  t.same(detail.accounts.map(a => [a.account, a.hasToken, typeof a.lastError]), [['marketing', false, 'string'], ['events', false, 'string']], 'and which accounts lack a token, with the last error')
  t.same(JSON.parse(notReady.text).accounts.map((a: { neededBy: string[] }) => a.neededBy), [[], ['default']], 'and the instance needing each (`campaign:` alone is the instance default; marketing is used by none)')

  const pending = soapPost(s.soapRouter, CALL, {}, 'xtk:session#GetOption')
  await clock.advance(15_000)
  const unavailable = await pending
  t.equal(unavailable.status, 503, 'a request gets 503')
  t.ok(Number(unavailable.headers['retry-after']) >= 1, `with Retry-After (${String(unavailable.headers['retry-after'])} s)`)
  t.match(unavailable.text, PROXY_FAULTS.imsUnavailable.message, 'and a SOAP fault saying the IMS token is unavailable')
  t.equal(s.campaign.requests.length, 0, 'nothing reached Campaign')

  await s.ims.refuseConnections(false)
  for (let i = 0; i < 20 && !s.server.tokens.isReady(); i++) {
    await clock.advance(60_000)
    await until(() => s.server.tokens.status().every(a => a.hasToken || a.consecutiveFailures > 0), 'the retry to finish').catch(() => {})
  }
  t.ok(s.server.tokens.isReady(), 'IMS back: every account gets its token without a restart')
  t.equal((await send(`${s.server.adminUrl}/readyz`)).status, 200, 'readiness is true')
  const ok = await soapPost(s.soapRouter, CALL, {}, 'xtk:session#GetOption')
  t.equal(ok.status, 200, 'traffic flows')

  // Refreshes fail from now on, but the token stays valid for hours.
  await s.ims.refuseConnections(true)
  const before = s.ims.tokenRequests('events-client')
  await clock.advance(20 * 3600 * 1000)
  await until(() => (events()?.consecutiveFailures ?? 0) >= 1, 'a refresh to fail')
  t.ok(events()?.hasToken, 'the account still holds its token after a failed refresh')
  const during = await Promise.all(Array.from({ length: 20 }, () => soapPost(s.soapRouter, CALL, {}, 'xtk:session#GetOption')))
  t.same(during.map(r => r.status), Array.from({ length: 20 }, () => 200), 'no request fails while the token is valid')
  t.equal(s.ims.tokenRequests('events-client'), before, 'the refused refresh never reached IMS (connections refused)')
})
