// Graceful shutdown: readiness turns false first, a request accepted before
// the shutdown completes normally (no reset), new connections are refused
// once the proxy has stopped.
import t from 'tap'
import { send, soapPost } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'
import { soapEnvelope } from '../fixtures/soap.js'

const getOption = soapEnvelope({ schema: 'xtk:session', method: 'GetOption', params: [['name', 'XtkDatabaseId']] })

t.test('in-flight requests finish, readiness first, then the door closes', async t => {
  const s = await startProxyStack(t, { integrations: '  - { name: website, networks: [127.0.0.1/32], technicalAccount: marketing }' })
  s.campaign.faults.inject({ kind: 'latency', ms: 1500 })
  const inFlight = soapPost(s.soapRouter, getOption, {}, 'xtk:session#GetOption')
  for (let i = 0; i < 500 && s.campaign.requests.length === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.equal(s.campaign.requests.length, 1, 'the request reached Campaign, which answers slowly')
  const closing = s.server.close()
  const readiness = await send(`${s.server.adminUrl}/readyz`)
  t.equal(readiness.status, 503, 'readiness is false as soon as shutdown starts')
  t.match(readiness.text, '"status":"shutting down"', 'and says why')
  const response = await inFlight
  t.equal(response.status, 200, 'the in-flight request completes normally')
  t.ok(response.complete, 'with its whole body')
  await closing
  await t.rejects(send(`${s.server.proxyUrl}/r/test`), { code: 'ECONNREFUSED' }, 'new connections are refused after shutdown')
})
