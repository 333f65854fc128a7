// Closing a simulator while a latency fault holds a request cancels that
// latency: the request is dropped at once and no timer is left to keep the
// process alive. The latency injected is ten minutes, far past tap's test
// timeout, so a close() that waited for it would fail the test on any
// machine, however busy, without asserting durations.
import t from 'tap'
import { CampaignSimulator } from '../../src/sim/campaign.js'
import { ImsSimulator } from '../../src/sim/ims.js'
import { send } from '../fixtures/http.js'

const TEN_MINUTES = 10 * 60_000
const CLIENT = { clientId: 'latency-client', secrets: ['latency-secret'], scopes: ['AdobeID', 'openid'] }
const TOKEN_FORM = new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT.clientId, client_secret: 'latency-secret', scope: 'AdobeID,openid' }).toString()

/** Timers keeping the process alive (unref'd ones are not listed). */
function timers (): number {
  return process.getActiveResourcesInfo().filter(resource => resource === 'Timeout').length
}

async function until (condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise<void>(resolve => setImmediate(resolve))
}

function errorCode (settled: unknown): unknown {
  return (settled as { code?: unknown } | undefined)?.code
}

t.test('Campaign: close() drops the delayed request and leaves no timer', async t => {
  const before = timers()
  const campaign = await CampaignSimulator.start({ host: '127.0.0.1', port: 0 })
  campaign.faults.always({ kind: 'latency', ms: TEN_MINUTES })
  const pending = send(`${campaign.url}/nl/jsp/ping.jsp`).then(() => undefined, (err: unknown) => err)
  // The request is recorded before faults apply; the latency timer starts in the same turn.
  await until(() => campaign.requests.length === 1)
  t.ok(timers() > before, 'a timer is pending while the latency holds the request')
  await campaign.close()
  t.equal(errorCode(await pending), 'ECONNRESET', 'the delayed request is cut, not answered')
  t.equal(timers(), before, 'no timer is left after close()')
})

t.test('IMS: close() drops the delayed token request and leaves no timer', async t => {
  const before = timers()
  const ims = await ImsSimulator.start({ host: '127.0.0.1', port: 0, clients: [CLIENT] })
  ims.faults.inject({ kind: 'latency', ms: TEN_MINUTES })
  const pending = send(ims.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: TOKEN_FORM }).then(() => undefined, (err: unknown) => err)
  await until(() => ims.tokenRequests(CLIENT.clientId) === 1)
  t.ok(timers() > before, 'a timer is pending while the latency holds the request')
  await ims.close()
  t.equal(errorCode(await pending), 'ECONNRESET', 'the delayed request is cut, not answered')
  t.equal(timers(), before, 'no timer is left after close()')
  t.equal(ims.tokensIssued(CLIENT.clientId), 0, 'and no token was issued for it')
})

t.test('refuseConnections(true) cancels the latency too; latency works again once back', async t => {
  const before = timers()
  const campaign = await CampaignSimulator.start({ host: '127.0.0.1', port: 0 })
  t.teardown(() => campaign.close())
  campaign.faults.inject({ kind: 'latency', ms: TEN_MINUTES })
  const pending = send(`${campaign.url}/nl/jsp/ping.jsp`).then(() => undefined, (err: unknown) => err)
  await until(() => campaign.requests.length === 1)
  await campaign.refuseConnections(true)
  t.equal(errorCode(await pending), 'ECONNRESET', 'the delayed request is cut')
  t.equal(timers(), before, 'no timer is left while connections are refused')
  await campaign.refuseConnections(false)
  campaign.faults.inject({ kind: 'latency', ms: 1 })
  t.equal((await send(`${campaign.url}/nl/jsp/ping.jsp`)).status, 200, 'a latency injected after coming back delays, then answers')
})
