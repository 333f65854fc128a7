// Fault injection, IMS side (driven by the IMS simulator's switches and an
// injected clock): what a client sees while IMS throttles, answers garbage
// or is slow, and how many token requests it costs. IMS refusing
// connections at start and failing refreshes while a token is valid are in
// test/proxy/ims-outage.test.ts; a wrong secret in test/proxy/forwarding.test.ts.
import t, { type Test } from 'tap'
import { rateLimited } from '../../src/sim/faults.js'
import { PROXY_FAULTS } from '../../src/soap/faults.js'
import { soapPost } from '../fixtures/http.js'
import { FakeScheduler } from '../fixtures/ims-harness.js'
import { startProxyStack, type ProxyStack } from '../fixtures/proxy-stack.js'
import { soapEnvelope } from '../fixtures/soap.js'
import { until } from '../fixtures/wait.js'

const CALL = soapEnvelope({ schema: 'xtk:session', method: 'GetOption', params: [['name', 'XtkDatabaseId']] })

async function stack (t: Test, arm: (s: Pick<ProxyStack, 'ims'>) => void): Promise<{ s: ProxyStack, clock: FakeScheduler, failures: () => number }> {
  const clock = new FakeScheduler()
  clock.now = Date.now()
  const s = await startProxyStack(t, {
    integrations: '  - { name: website, networks: [127.0.0.1/32], technicalAccount: events }',
    waitForTokens: false,
    hooks: { now: () => clock.now, timers: clock, random: () => 0.5 },
    beforeStart: ({ ims }) => { arm({ ims }) },
  })
  const failures = (): number => s.server.tokens.status().find(a => a.account === 'events')?.consecutiveFailures ?? 0
  return { s, clock, failures }
}

t.test('IMS throttles (429 with Retry-After: 30) at start', async t => {
  const { s, clock, failures } = await stack(t, ({ ims }) => { ims.faults.inject(rateLimited(30), { times: 2 }) })
  await until(() => failures() >= 1, 'the throttled token request')
  const throttled = await soapPost(s.soapRouter, CALL, {}, 'xtk:session#GetOption')
  t.equal(throttled.status, 503, 'a request gets 503 at once (the next attempt is further away than a request may wait)')
  t.equal(throttled.headers['retry-after'], '30', "with IMS's own Retry-After")
  t.match(throttled.text, PROXY_FAULTS.imsUnavailable.message, 'and the IMS fault')
  await clock.advance(30_000)
  await until(() => s.server.tokens.isReady(), 'the retry after 30 s')
  t.equal((await soapPost(s.soapRouter, CALL, {}, 'xtk:session#GetOption')).status, 200, 'after Retry-After the token arrives and requests pass')
  t.equal(s.ims.tokenRequests('events-client'), 2, 'exactly two token requests: the throttled one and the retry')
  t.equal(s.campaign.requests.length, 1, 'Campaign saw only the request made with a token')
})

t.test('IMS answers a malformed body at start: retried with backoff, a waiting request succeeds', async t => {
  const { s, clock, failures } = await stack(t, ({ ims }) => { ims.faults.inject({ kind: 'malformed' }, { times: 2 }) })
  await until(() => failures() >= 1, 'the malformed answer')
  const pending = soapPost(s.soapRouter, CALL, {}, 'xtk:session#GetOption')
  await until(() => s.server.tokens.status().some(a => a.account === 'events' && a.nextAttemptAt !== undefined), 'the retry to be scheduled')
  await clock.advance(2_000)
  const response = await pending
  t.equal(response.status, 200, 'the request waited for the retry (1 s backoff, within ims.timeoutSeconds) and succeeded')
  t.equal(s.ims.tokenRequests('events-client'), 2, 'two token requests')
})

t.test('IMS slow (1.5 s) at start: requests wait for the single token request', async t => {
  const { s } = await stack(t, ({ ims }) => { ims.faults.inject({ kind: 'latency', ms: 1500 }, { times: 1 }) })
  const responses = await Promise.all(Array.from({ length: 20 }, () => soapPost(s.soapRouter, CALL, {}, 'xtk:session#GetOption')))
  t.same(responses.map(r => r.status), Array.from({ length: 20 }, () => 200), 'every request waited and succeeded')
  t.equal(s.ims.tokenRequests('events-client'), 1, 'one token request for all of them')
})
