// Fault injection on the Campaign simulator, the request record, and the
// listener's own behaviour (refusing connections, port in use, IPv6,
// aborted uploads, a broken injected clock).
import { connect } from 'node:net'
import t from 'tap'
import { CampaignSimulator } from '../../src/sim/campaign.js'
import { rateLimited } from '../../src/sim/faults.js'
import { call, Clock, DATABASE_ID_RESPONSE, getOption, logon, startSims } from '../fixtures/campaign-sims.js'
import { send, soapPost } from '../fixtures/http.js'
import { expectedFault, soapEnvelope } from '../fixtures/soap.js'

function errorCode (err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code
}

t.test('latency: the answer is delayed, then normal', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true })
  campaign.faults.inject({ kind: 'latency', ms: 40 })
  const started = performance.now()
  const slow = await getOption(campaign, { sessionToken: 'admin/admin' })
  const elapsed = performance.now() - started
  t.ok(elapsed >= 39, `the response took at least the 40 ms of latency (${elapsed.toFixed(1)} ms)`)
  t.equal(slow.text, DATABASE_ID_RESPONSE, 'and is the normal answer')
})

t.test("status: {kind:'status', status: 503} answers 503 without running the call", async t => {
  const { campaign } = await startSims(t)
  campaign.faults.inject({ kind: 'status', status: 503 }, { times: 2 })
  for (const attempt of [1, 2]) {
    const response = await logon(campaign, 'admin', 'admin')
    t.same([response.response.status, response.response.headers['content-type'], response.response.text], [503, 'text/plain', 'Simulated 503\n'],
      `attempt ${attempt} is answered 503 with the default body`)
  }
  t.equal(campaign.sessionCount, 0, 'the Logon was not executed')
  t.equal((await logon(campaign, 'admin', 'admin')).response.status, 200, 'the third attempt, past times: 2, is served')
  t.same(campaign.requests.map(r => r.soapMethod), ['xtk:session#Logon', 'xtk:session#Logon', 'xtk:session#Logon'], 'all three attempts are recorded, the faulted ones included')
})

t.test('status with a body and headers; rateLimited; malformed', async t => {
  const { campaign } = await startSims(t)
  campaign.faults.inject({ kind: 'status', status: 502, body: '<html>Bad gateway</html>', headers: { 'content-type': 'text/html', 'x-edge': 'cdn-7' } })
  const gateway = await send(`${campaign.url}/r/test`)
  t.same([gateway.status, gateway.headers['content-type'], gateway.headers['x-edge'], gateway.text], [502, 'text/html', 'cdn-7', '<html>Bad gateway</html>'],
    'the configured status, headers and body are answered')
  campaign.faults.inject(rateLimited(7))
  const throttled = await send(`${campaign.url}/r/test`)
  t.same([throttled.status, throttled.headers['retry-after'], throttled.headers['content-type'], throttled.text],
    [429, '7', 'application/json', '{"error_code":"429050","message":"Too many requests"}'], 'rateLimited answers 429 with Retry-After')
  campaign.faults.inject({ kind: 'malformed' })
  const malformed = await send(`${campaign.url}/r/test`)
  t.same([malformed.status, malformed.headers['content-type'], malformed.text], [200, 'application/json', '{"access_token":"eyJ'], 'malformed answers a truncated JSON body')
  t.throws(() => campaign.faults.inject({ kind: 'reset' }, { times: 0 }), new RangeError('times must be a positive integer'), 'times must be a positive integer')
})

t.test('several faults on one request: latency then status; the first answer wins', async t => {
  const { campaign } = await startSims(t)
  campaign.faults.inject({ kind: 'latency', ms: 20 })
  campaign.faults.inject({ kind: 'status', status: 504 })
  campaign.faults.inject({ kind: 'malformed' })
  const started = performance.now()
  const response = await send(`${campaign.url}/nl/jsp/ping.jsp`)
  t.ok(performance.now() - started >= 19, 'the latency applied')
  t.same([response.status, response.text], [504, 'Simulated 504\n'], 'the first armed answer (504) is sent, not the later malformed one')
  t.equal((await send(`${campaign.url}/nl/jsp/ping.jsp`)).status, 200, 'all three were one-shot')
})

t.test('reset: the connection is destroyed without an answer', async t => {
  const { campaign } = await startSims(t)
  campaign.faults.inject({ kind: 'reset' })
  const error = await logon(campaign, 'admin', 'admin').then(() => undefined, (err: unknown) => err)
  t.equal(errorCode(error), 'ECONNRESET', 'the client sees the connection reset')
  t.equal(campaign.sessionCount, 0, 'the Logon was not executed')
  t.equal(campaign.requests.length, 1, 'but it was received and recorded')
  t.equal((await logon(campaign, 'admin', 'admin')).response.status, 200, 'the next request is served')
})

t.test('reset-mid-response: half the body, then the connection drops; the call did run', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true })
  campaign.faults.inject({ kind: 'reset-mid-response' })
  const response = await getOption(campaign, { sessionToken: 'admin/admin' })
  const full = Buffer.from(DATABASE_ID_RESPONSE)
  t.equal(response.status, 200, 'the status line arrived')
  t.equal(response.headers['content-length'], String(full.length), 'announcing the whole body')
  t.same(response.body, full.subarray(0, Math.floor(full.length / 2)), 'only the first half of the normal body arrived')
  t.equal(response.complete, false, 'and the response is incomplete')

  campaign.faults.inject({ kind: 'reset-mid-response' })
  const session = await logon(campaign, 'admin', 'admin')
  t.equal(session.response.complete, false, 'the client got an incomplete LogonResponse')
  t.equal(campaign.sessionCount, 1, 'yet the Logon opened a session on the server')
})

t.test('soapMethod matching: only xtk:session#Logon is faulted', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true })
  campaign.faults.inject({ kind: 'status', status: 503 }, { soapMethod: 'xtk:session#Logon' })
  t.equal((await getOption(campaign, { sessionToken: 'admin/admin' })).text, DATABASE_ID_RESPONSE, 'GetOption is not affected')
  t.equal((await send(`${campaign.url}/r/test`)).status, 200, 'nor a page')
  t.equal((await logon(campaign, 'admin', 'admin')).response.status, 503, 'Logon is answered 503')
  t.equal((await logon(campaign, 'admin', 'admin')).response.status, 200, 'once')
})

t.test('always + path matching until clear()', async t => {
  const { campaign } = await startSims(t)
  campaign.faults.always({ kind: 'status', status: 503 }, { path: '/nl/jsp/mcPing.jsp' })
  t.equal((await send(`${campaign.url}/nl/jsp/mcPing.jsp`)).status, 503, 'the matching path is faulted')
  t.equal((await send(`${campaign.url}/nl/jsp/mcPing.jsp`)).status, 503, 'every time')
  t.equal((await send(`${campaign.url}/nl/jsp/ping.jsp`)).status, 200, 'another path is not')
  campaign.faults.always({ kind: 'status', status: 500 })
  t.equal((await send(`${campaign.url}/nl/jsp/ping.jsp`)).status, 500, 'a fault with no match applies to every request')
  campaign.faults.clear()
  t.equal((await send(`${campaign.url}/nl/jsp/mcPing.jsp`)).status, 200, 'clear() removes them all')
})

t.test('refuseConnections: refused, then back on the same port', async t => {
  const { campaign } = await startSims(t)
  const url = campaign.url
  await campaign.refuseConnections(true)
  await campaign.refuseConnections(true)
  const error = await send(`${url}/nl/jsp/ping.jsp`).then(() => undefined, (err: unknown) => err)
  t.equal(errorCode(error), 'ECONNREFUSED', 'connections are refused')
  await campaign.refuseConnections(false)
  await campaign.refuseConnections(false)
  t.equal(campaign.url, url, 'the URL is unchanged')
  t.equal((await send(`${url}/nl/jsp/ping.jsp`)).status, 200, 'requests are served again on the same port')
})

t.test('refuseConnections drops open connections', async t => {
  const { campaign } = await startSims(t)
  campaign.faults.inject({ kind: 'latency', ms: 200 })
  const pending = send(`${campaign.url}/nl/jsp/ping.jsp`).then(() => undefined, (err: unknown) => err)
  // The request is held by the latency fault once it has been recorded.
  while (campaign.requests.length === 0) await new Promise<void>(resolve => setImmediate(resolve))
  await campaign.refuseConnections(true)
  t.equal(errorCode(await pending), 'ECONNRESET', 'the in-flight request is cut')
})

t.test('request record: method, url, headers, exact body, soapMethod; bounded; clearable', async t => {
  const { campaign, clock } = await startSims(t, { recordLimit: 2, allowUserPassword: true })
  const envelope = soapEnvelope({ schema: 'xtk:persist|xtk:session', method: 'Write', sessionToken: 'admin/admin', params: [['doc', { xml: '<recipient xtkschema="nms:recipient" email="é@example.com"/>' }]] })
  await send(`${campaign.url}/r/test?x=1`)
  clock.advance(1500)
  const body = Buffer.from(envelope, 'utf8')
  await soapPost(`${campaign.soapRouterUrl}?soapAction=xtk%3Apersist%7Cxtk%3Asession%23Write`, body, { 'x-custom': 'abc' }, 'xtk:persist|xtk:session#Write')
  const host = new URL(campaign.url).host
  t.equal(campaign.requests.length, 2, 'both requests are recorded')
  const [page, soap] = campaign.requests
  t.same(page, {
    method: 'GET', url: '/r/test?x=1', headers: { host, connection: 'close' }, body: Buffer.alloc(0), soapMethod: undefined, remoteAddress: '127.0.0.1', at: Date.parse('2026-11-23T09:00:00.000Z'),
  }, 'the page request is recorded whole, without a SOAP method')
  t.same(soap, {
    method: 'POST',
    url: '/nl/jsp/soaprouter.jsp?soapAction=xtk%3Apersist%7Cxtk%3Asession%23Write',
    headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: 'xtk:persist|xtk:session#Write', 'x-custom': 'abc', 'content-length': String(body.length), host, connection: 'close' },
    body,
    soapMethod: 'xtk:persist|xtk:session#Write',
    remoteAddress: '127.0.0.1',
    at: Date.parse('2026-11-23T09:00:01.500Z'),
  }, 'the SOAP request is recorded with its exact body bytes and its schema#Method')
  t.ok(soap?.body.equals(body), 'the recorded body is byte for byte what was sent')

  await send(`${campaign.url}/nl/jsp/ping.jsp`)
  t.same(campaign.requests.map(r => r.url), ['/nl/jsp/soaprouter.jsp?soapAction=xtk%3Apersist%7Cxtk%3Asession%23Write', '/nl/jsp/ping.jsp'], 'recordLimit 2 keeps the two newest')
  await soapPost(campaign.soapRouterUrl, 'not xml')
  t.equal(campaign.requests[1]?.soapMethod, undefined, 'an unreadable SOAP request is recorded without a SOAP method')
  campaign.clearRequests()
  t.same(campaign.requests, [], 'clearRequests empties the record')
})

t.test('start: a port in use is reported; IPv6 hosts are bracketed in the URL', async t => {
  const { campaign } = await startSims(t)
  const port = Number(new URL(campaign.url).port)
  const error = await CampaignSimulator.start({ host: '127.0.0.1', port }).then(() => undefined, (err: unknown) => err)
  t.equal(errorCode(error), 'EADDRINUSE', 'starting on a used port rejects with EADDRINUSE')

  const v6 = await CampaignSimulator.start({ host: '::1', port: 0, now: new Clock().now })
  t.teardown(() => v6.close())
  t.match(v6.url, /^http:\/\/\[::1\]:\d+$/, 'the IPv6 address is bracketed')
  t.equal(v6.soapRouterUrl, `${v6.url}/nl/jsp/soaprouter.jsp`, 'the router URL follows')
  t.equal((await send(`${v6.url}/nl/jsp/ping.jsp`)).text, 'OK\n2026-11-23 09:00:00.000Z\n', 'and it serves')
})

t.test('start() with no options uses the real clock', async t => {
  const campaign = await CampaignSimulator.start()
  t.teardown(() => campaign.close())
  const before = Date.now()
  const ping = await send(`${campaign.url}/nl/jsp/ping.jsp`)
  const after = Date.now()
  const stamp = /^OK\n(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z)\n$/.exec(ping.text)?.[1] ?? ''
  const at = Date.parse(stamp.replace(' ', 'T'))
  t.ok(at >= before && at <= after, `the ping time ${stamp} is the current time`)
  t.equal((await logon(campaign, 'admin', 'admin')).response.status, 200, 'the default operators are there')
})

t.test('simulator errors: a clock beyond the Date range', async t => {
  const campaign = await CampaignSimulator.start({ now: () => Number.MAX_SAFE_INTEGER })
  t.teardown(() => campaign.close())
  const page = await send(`${campaign.url}/nl/jsp/ping.jsp`)
  t.same([page.status, page.headers['content-type'], page.text], [500, 'text/plain', 'Simulator error: Invalid time value\n'], 'a page that cannot be built is answered 500 with the error')
  const soap = await logon(campaign, 'admin', 'admin')
  t.equal(soap.response.status, 500, 'a SOAP method that fails unexpectedly is answered as a fault')
  t.equal(soap.response.text, expectedFault('Invalid time value', undefined, 'Server'), 'a SOAP-ENV:Server fault carrying the error')
})

t.test('an observer error drops the connection', async t => {
  let broken = false
  const campaign = await CampaignSimulator.start({ now: () => { if (broken) throw new Error('clock unavailable'); return 0 } })
  t.teardown(() => campaign.close())
  broken = true
  const error = await send(`${campaign.url}/nl/jsp/ping.jsp`).then(() => undefined, (err: unknown) => err)
  t.equal(errorCode(error), 'ECONNRESET', 'a request that cannot even be recorded gets no answer')
})

t.test('an upload cut before its end is dropped', async t => {
  const { campaign } = await startSims(t)
  const url = new URL(campaign.soapRouterUrl)
  await new Promise<void>((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.end(`POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n<SOAP-ENV:Envelope`)
    })
    socket.on('error', reject)
    socket.on('close', () => resolve())
    socket.resume()
  })
  t.equal((await send(`${campaign.url}/nl/jsp/ping.jsp`)).status, 200, 'the simulator keeps serving')
  t.same(campaign.requests.map(r => r.url), ['/nl/jsp/ping.jsp'], 'the cut upload was never handled')
})

t.test('SOAP calls run once per request even when faults inspect the method', async t => {
  const { campaign } = await startSims(t)
  campaign.faults.inject({ kind: 'latency', ms: 1 }, { soapMethod: 'xtk:session#Logon' })
  await call(campaign, { schema: 'xtk:session', method: 'Logon', params: [['login', 'admin'], ['password', 'admin']] })
  t.equal(campaign.sessionCount, 1, 'one Logon, one session')
})
