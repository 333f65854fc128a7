// Per-client counters: tokenRequests counts every attempt (refused or faulted), tokensIssued only successes.
import t from 'tap'
import { rateLimited } from '../../src/sim/faults.js'
import { CLIENT_ID, VALID_FORM, postToken, startIms } from './ims-helpers.js'

t.test('unknown clients start at zero', async t => {
  const sim = await startIms(t)
  t.equal(sim.tokenRequests('never-seen'), 0, 'no request from a client means 0 requests')
  t.equal(sim.tokensIssued('never-seen'), 0, 'and 0 tokens')
})

t.test('successes and refusals are counted per client_id', async t => {
  const sim = await startIms(t)
  await postToken(sim)
  await postToken(sim)
  await postToken(sim, { ...VALID_FORM, client_secret: 'wrong' })
  await postToken(sim, { ...VALID_FORM, scope: 'read_pc' })
  await postToken(sim, { ...VALID_FORM, grant_type: 'password' })
  await postToken(sim, { ...VALID_FORM, client_id: 'stranger' })
  t.equal(sim.tokenRequests(CLIENT_ID), 5, 'two successes and three refusals are five attempts for the client')
  t.equal(sim.tokensIssued(CLIENT_ID), 2, 'only the two successes issued tokens')
  t.equal(sim.tokenRequests('stranger'), 1, 'an unknown client id is counted under its own name')
  t.equal(sim.tokensIssued('stranger'), 0, 'and was issued nothing')
})

t.test('only POSTs to the token endpoint count: 404 and 405 do not, a refused content type does', async t => {
  const sim = await startIms(t)
  await fetch(`${sim.url}/ims/token/v2`, { method: 'POST', body: new URLSearchParams(VALID_FORM) })
  await fetch(`${sim.tokenUrl}?client_id=${CLIENT_ID}`)
  t.equal(sim.tokenRequests(CLIENT_ID), 0, 'another path or GET is not a token request')
  await fetch(sim.tokenUrl, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: new URLSearchParams(VALID_FORM).toString() })
  t.equal(sim.tokenRequests(CLIENT_ID), 1, 'a POST to the token endpoint counts even when its content type is then refused')
  t.equal(sim.tokensIssued(CLIENT_ID), 0, 'and issues nothing')
})

t.test('faulted token requests are counted as attempts, not as issued tokens', async t => {
  const sim = await startIms(t)
  sim.faults.inject(rateLimited(2))
  t.equal((await postToken(sim)).status, 429, 'first attempt is throttled')
  sim.faults.inject({ kind: 'status', status: 503 })
  t.equal((await postToken(sim)).status, 503, 'second attempt meets an outage')
  sim.faults.inject({ kind: 'malformed' })
  const malformed = await postToken(sim)
  t.equal(malformed.status, 200, 'third attempt gets a 200...')
  await malformed.text()
  sim.faults.inject({ kind: 'reset' })
  await t.rejects(postToken(sim), 'fourth attempt has its connection reset')
  sim.faults.inject({ kind: 'latency', ms: 10 })
  t.equal((await postToken(sim)).status, 200, 'fifth attempt is slow but succeeds')
  t.equal(sim.tokenRequests(CLIENT_ID), 5, 'every attempt the proxy made is counted, whatever the fault')
  t.equal(sim.tokensIssued(CLIENT_ID), 1, 'only the one real answer issued a token')
})

t.test('reset-mid-response: counted once; the token was issued but the client never read it', async t => {
  const sim = await startIms(t)
  sim.faults.inject({ kind: 'reset-mid-response' })
  const response = await postToken(sim)
  await t.rejects(response.text(), 'the body read fails')
  t.equal(sim.tokenRequests(CLIENT_ID), 1, 'one attempt')
  t.equal(sim.tokensIssued(CLIENT_ID), 1, 'the handler ran, so IMS issued a token')
})

t.test('resetCounters zeroes every client', async t => {
  const sim = await startIms(t)
  await postToken(sim)
  await postToken(sim, { ...VALID_FORM, client_id: 'stranger' })
  t.equal(sim.tokenRequests(CLIENT_ID), 1, 'one request before the reset')
  sim.resetCounters()
  t.equal(sim.tokenRequests(CLIENT_ID), 0, 'requests are back to 0')
  t.equal(sim.tokensIssued(CLIENT_ID), 0, 'issued tokens are back to 0')
  t.equal(sim.tokenRequests('stranger'), 0, 'other clients are reset too')
  await postToken(sim)
  t.equal(sim.tokenRequests(CLIENT_ID), 1, 'counting restarts from 0')
  t.equal(sim.tokensIssued(CLIENT_ID), 1, 'issued counting restarts from 0')
})
