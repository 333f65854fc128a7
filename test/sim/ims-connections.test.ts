// Connection-level behaviour: refusing connections and coming back on the same port.
import t from 'tap'
import { ImsSimulator } from '../../src/sim/ims.js'
import { VALID_FORM, postToken, startIms, type TokenResponse } from './ims-helpers.js'

function causeCode (err: unknown): unknown {
  return ((err as { cause?: { code?: unknown } }).cause)?.code
}

t.test('refuseConnections(true) refuses, refuseConnections(false) answers again on the same port', async t => {
  const sim = await startIms(t)
  const url = sim.url
  t.equal((await postToken(sim)).status, 200, 'the simulator answers before the outage')

  await sim.refuseConnections(true)
  const refused = await postToken(sim).then(() => undefined, (err: unknown) => err)
  t.type(refused, TypeError, 'fetch rejects while connections are refused')
  t.equal(causeCode(refused), 'ECONNREFUSED', 'the cause is a refused connection, not a timeout or reset')
  await sim.refuseConnections(true)
  t.equal(causeCode(await postToken(sim).then(() => undefined, (err: unknown) => err)), 'ECONNREFUSED', 'refusing twice is harmless: still refused')

  await sim.refuseConnections(false)
  t.equal(sim.url, url, 'the simulator is back on the same URL and port')
  const back = await postToken(sim, VALID_FORM)
  t.equal(back.status, 200, 'requests succeed again')
  t.equal((await back.json() as TokenResponse).token_type, 'bearer', 'with a real token response')
  await sim.refuseConnections(false)
  t.equal((await postToken(sim)).status, 200, 'accepting twice is harmless: still answering')
})

t.test('refuseConnections(true) drops a kept-alive connection', async t => {
  const sim = await startIms(t)
  const first = await postToken(sim)
  t.equal(first.headers.get('connection'), 'keep-alive', 'fetch keeps the connection open between requests')
  await first.text()
  await sim.refuseConnections(true)
  t.equal(causeCode(await postToken(sim).then(() => undefined, (err: unknown) => err)), 'ECONNREFUSED', 'the pooled connection is gone; a new one is refused')
})

t.test('close() after refusing connections resolves', async t => {
  const sim = await startIms(t)
  await sim.refuseConnections(true)
  await t.resolves(sim.close(), 'closing a simulator that already stopped listening is a no-op')
})

t.test('start() rejects when the port is already taken', async t => {
  const sim = await startIms(t)
  const port = Number(new URL(sim.url).port)
  await t.rejects(ImsSimulator.start({ host: '127.0.0.1', port, clients: [] }), { code: 'EADDRINUSE' }, 'a second simulator on the same port fails to listen')
  t.equal((await postToken(sim)).status, 200, 'the first simulator is unaffected')
})
