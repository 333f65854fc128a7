// limits.maxConcurrentRequests: an integration with that many requests in
// progress gets 429 + Retry-After and a fault; others are not affected; a
// slot is given back when a response ends, also when the client goes away.
import t from 'tap'
import { PROXY_FAULTS } from '../../src/soap/faults.js'
import { send } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'
import { soapEnvelope } from '../fixtures/soap.js'

const getOption = soapEnvelope({ schema: 'xtk:session', method: 'GetOption', params: [['name', 'XtkDatabaseId']] })

t.test('the third concurrent request of an integration limited to two is refused', async t => {
  const s = await startProxyStack(t, {
    integrations: [
      '  - { name: batch, networks: [127.0.0.1/32], technicalAccount: marketing }',
      '  - { name: website, networks: [127.0.0.2/32], technicalAccount: events }',
    ].join('\n'),
    extra: 'limits: { maxConcurrentRequests: 2 }',
  })
  const post = (from: string): ReturnType<typeof send> => send(s.soapRouter, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: getOption, localAddress: from })
  s.campaign.faults.inject({ kind: 'latency', ms: 1500 }, { times: 2 })
  const slow = [post('127.0.0.1'), post('127.0.0.1')]
  for (let i = 0; i < 500 && s.campaign.requests.length < 2; i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.equal(s.campaign.requests.length, 2, 'two slow requests are at Campaign')
  const third = await post('127.0.0.1')
  t.equal(third.status, 429, 'the third is refused with 429')
  t.equal(third.headers['retry-after'], '1', 'and Retry-After')
  t.match(third.text, PROXY_FAULTS.tooManyRequests.message, 'and a fault saying why')
  t.equal((await post('127.0.0.2')).status, 200, 'another integration is not affected')
  t.same((await Promise.all(slow)).map(r => r.status), [200, 200], 'the slow ones complete')
  t.equal((await post('127.0.0.1')).status, 200, 'then the integration has its slots back')
  const metrics = (await send(`${s.server.adminUrl}/metrics`)).text
  t.match(metrics, 'campaign_ims_proxy_concurrency_rejections_total{integration="batch"} 1', 'the rejection is counted')
})
