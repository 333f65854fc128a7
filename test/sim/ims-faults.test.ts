// Fault injection on the IMS simulator, over real sockets, plus FaultInjector's arming rules.
import t, { type Test } from 'tap'
import { FaultInjector, rateLimited, type Fault } from '../../src/sim/faults.js'
import { IMS_TOKEN_PATH } from '../../src/sim/ims.js'
import { CLIENT_ID, postToken, startIms, type TokenResponse } from './ims-helpers.js'

const RATE_LIMIT_BODY = '{"error_code":"429050","message":"Too many requests"}'

async function expectToken (t: Test, response: Response, why: string) {
  t.equal(response.status, 200, `${why}: 200`)
  const body = await response.json() as TokenResponse
  t.equal(body.token_type, 'bearer', `${why}: a real token response`)
}

t.test('rateLimited(2): one 429 with Retry-After: 2, then the next request succeeds', async t => {
  const sim = await startIms(t)
  t.same(rateLimited(2), {
    kind: 'status',
    status: 429,
    headers: { 'retry-after': '2', 'content-type': 'application/json' },
    body: RATE_LIMIT_BODY,
  }, 'rateLimited builds a 429 status fault with Retry-After in seconds')
  sim.faults.inject(rateLimited(2))
  const throttled = await postToken(sim)
  t.equal(throttled.status, 429, 'the throttled request is answered 429')
  t.equal(throttled.headers.get('retry-after'), '2', 'Retry-After carries the seconds as given')
  t.equal(throttled.headers.get('content-type'), 'application/json', 'the gateway body is JSON')
  t.equal(await throttled.text(), RATE_LIMIT_BODY, 'the body is the API gateway throttling message')
  await expectToken(t, await postToken(sim), 'the next request')
  t.equal(sim.tokensIssued(CLIENT_ID), 1, 'the throttled request issued no token')
})

t.test('status 503 without body or headers gets a plain-text default', async t => {
  const sim = await startIms(t)
  sim.faults.inject({ kind: 'status', status: 503 })
  const response = await postToken(sim)
  t.equal(response.status, 503, 'the injected status is answered')
  t.equal(response.headers.get('content-type'), 'text/plain', 'the default fault body is plain text')
  t.equal(await response.text(), 'Simulated 503\n', 'the default body names the status')
  await expectToken(t, await postToken(sim), 'after the one-shot fault')
})

t.test('malformed: 200 with a truncated, unparseable JSON body', async t => {
  const sim = await startIms(t)
  sim.faults.inject({ kind: 'malformed' })
  const response = await postToken(sim)
  t.equal(response.status, 200, 'the status says success')
  t.equal(response.headers.get('content-type'), 'application/json', 'the content type says JSON')
  const text = await response.text()
  t.equal(text, '{"access_token":"eyJ', 'the body is a truncated token response')
  t.throws(() => JSON.parse(text), SyntaxError, 'and it does not parse')
  t.equal(sim.tokensIssued(CLIENT_ID), 0, 'no token was actually issued')
})

t.test('latency: the answer is delayed, then correct', async t => {
  const sim = await startIms(t)
  sim.faults.inject({ kind: 'latency', ms: 50 })
  const started = performance.now()
  const response = await postToken(sim)
  t.ok(performance.now() - started >= 40, 'the answer took at least about the injected latency')
  await expectToken(t, response, 'the delayed request')
})

t.test('reset: the connection is destroyed without an answer, fetch rejects', async t => {
  const sim = await startIms(t)
  sim.faults.inject({ kind: 'reset' })
  await t.rejects(postToken(sim), { name: 'TypeError', message: 'fetch failed' }, 'fetch rejects: no response at all')
  await expectToken(t, await postToken(sim), 'the next request, on a new connection')
})

t.test('reset-mid-response: headers and half a body arrive, then the body read fails', async t => {
  const sim = await startIms(t)
  sim.faults.inject({ kind: 'reset-mid-response' })
  const response = await postToken(sim)
  t.equal(response.status, 200, 'the status line of the real answer arrives')
  t.equal(response.headers.get('content-type'), 'application/json;charset=UTF-8', 'the real headers arrive')
  t.ok(Number(response.headers.get('content-length')) > 100, 'content-length announces the whole token response')
  await t.rejects(response.text(), 'reading the body fails when the connection drops')
  await expectToken(t, await postToken(sim), 'the next request')
})

t.test('always() fires on every request until clear()', async t => {
  const sim = await startIms(t)
  sim.faults.always({ kind: 'status', status: 502 })
  for (let i = 1; i <= 3; i++) t.equal((await postToken(sim)).status, 502, `request ${i} hits the permanent fault`)
  sim.faults.clear()
  await expectToken(t, await postToken(sim), 'after clear()')
})

t.test('inject with times: 2 fires twice, then stops', async t => {
  const sim = await startIms(t)
  sim.faults.inject({ kind: 'status', status: 500 }, { times: 2 })
  t.equal((await postToken(sim)).status, 500, 'first request faulted')
  t.equal((await postToken(sim)).status, 500, 'second request faulted')
  await expectToken(t, await postToken(sim), 'third request')
})

t.test('inject rejects a non-positive or fractional times', async t => {
  const faults = new FaultInjector()
  const fault: Fault = { kind: 'reset' }
  t.throws(() => faults.inject(fault, { times: 0 }), new RangeError('times must be a positive integer'), 'times 0 is a RangeError')
  t.throws(() => faults.inject(fault, { times: -1 }), RangeError, 'a negative times is a RangeError')
  t.throws(() => faults.inject(fault, { times: 1.5 }), RangeError, 'a fractional times is a RangeError')
  t.same(faults.take({ path: '/' }), [], 'nothing was armed by the refused calls')
})

t.test('match by path: other paths pass through untouched', async t => {
  const sim = await startIms(t)
  sim.faults.inject({ kind: 'status', status: 503 }, { path: IMS_TOKEN_PATH })
  const other = await fetch(`${sim.url}/ims/profile/v1`)
  t.equal(other.status, 404, 'a request to another path is not faulted (the simulator answers its normal 404)')
  t.equal((await postToken(sim)).status, 503, 'the fault was kept for the token path and fires there')
  await expectToken(t, await postToken(sim), 'once consumed')

  sim.faults.inject({ kind: 'status', status: 503 }, { path: '/somewhere/else' })
  await expectToken(t, await postToken(sim), 'a fault for another path does not touch the token endpoint')
})

t.test('a fault matched on a SOAP method never fires on IMS requests (they have none)', async t => {
  const sim = await startIms(t)
  sim.faults.inject({ kind: 'status', status: 503 }, { soapMethod: 'xtk:session#Logon' })
  await expectToken(t, await postToken(sim), 'the IMS request')
})

t.test('stacked faults: latency then status both apply; the first response-producing fault wins, all matching one-shots are consumed', async t => {
  const sim = await startIms(t)
  sim.faults.inject({ kind: 'latency', ms: 5 })
  sim.faults.inject(rateLimited(1))
  sim.faults.inject({ kind: 'status', status: 503 })
  sim.faults.inject({ kind: 'malformed' })
  const response = await postToken(sim)
  t.equal(response.status, 429, 'the earliest armed status fault decides the answer')
  t.equal(response.headers.get('retry-after'), '1', 'with its own headers')
  await expectToken(t, await postToken(sim), 'the next request, since every matching one-shot fault fired on the first')
})

t.test('FaultInjector.take: order, matching and consumption', async t => {
  const faults = new FaultInjector()
  const latency: Fault = { kind: 'latency', ms: 1 }
  const logon: Fault = { kind: 'reset' }
  const token: Fault = { kind: 'malformed' }
  const forever: Fault = { kind: 'status', status: 500 }
  faults.inject(latency)
  faults.inject(logon, { path: '/nl/jsp/soaprouter.jsp', soapMethod: 'xtk:session#Logon' })
  faults.inject(token, { path: IMS_TOKEN_PATH, times: 2 })
  faults.always(forever, { path: IMS_TOKEN_PATH })
  t.same(faults.take({ path: IMS_TOKEN_PATH }), [latency, token, forever], 'unrestricted and path-matched faults, in arming order')
  t.same(faults.take({ path: '/nl/jsp/soaprouter.jsp', soapMethod: 'xtk:session#Write' }), [], 'another SOAP method on the right path does not match')
  t.same(faults.take({ path: '/elsewhere', soapMethod: 'xtk:session#Logon' }), [], 'the right SOAP method on another path does not match')
  t.same(faults.take({ path: '/nl/jsp/soaprouter.jsp', soapMethod: 'xtk:session#Logon' }), [logon], 'path and SOAP method both matching fires the fault')
  t.same(faults.take({ path: IMS_TOKEN_PATH }), [token, forever], 'the twice-armed fault fires a second time; latency was consumed')
  t.same(faults.take({ path: IMS_TOKEN_PATH }), [forever], 'only the permanent fault remains')
  faults.clear()
  t.same(faults.take({ path: IMS_TOKEN_PATH }), [], 'clear() disarms everything, permanent faults included')
})
