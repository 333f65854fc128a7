// Admission: an integration with limits.maxConcurrentRequests requests in
// progress queues the next ones (first come, first served) and refuses
// them only when the queue is full or the wait passes
// limits.queueTimeoutSeconds (503 + Retry-After + a fault naming it);
// other integrations are not affected; unidentified callers have their own
// budget; a slot is given back when a response ends, also when the client
// goes away; a cold burst of 1,000 first calls is served whole.
import { once } from 'node:events'
import { Agent, request } from 'node:http'
import { connect } from 'node:net'
import t from 'tap'
import { PROXY_FAULTS } from '../../src/soap/faults.js'
import { send } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'
import { soapEnvelope } from '../fixtures/soap.js'

const getOption = soapEnvelope({ schema: 'xtk:session', method: 'GetOption', params: [['name', 'XtkDatabaseId']] })
const TWO_INTEGRATIONS = [
  '  - { name: batch, networks: [127.0.0.1/32], technicalAccount: marketing }',
  '  - { name: website, networks: [127.0.0.2/32], technicalAccount: events }',
].join('\n')

/** A GetOption POSTed from `from` (an integration's network address). */
async function postFrom (routerUrl: string, from: string): ReturnType<typeof send> {
  return await send(routerUrl, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: getOption, localAddress: from })
}

async function until (condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise(resolve => setTimeout(resolve, 10))
}

t.test('10 slots, a 1 s queue wait, Campaign answering after 3 s: 10 reach Campaign, 20 get 503 after waiting', async t => {
  const s = await startProxyStack(t, { integrations: TWO_INTEGRATIONS, extra: 'limits: { maxConcurrentRequests: 10, queueTimeoutSeconds: 1 }' })
  const post = async (from: string): ReturnType<typeof send> => await postFrom(s.soapRouter, from)
  s.campaign.faults.inject({ kind: 'latency', ms: 3000 }, { times: 10 })
  const calls = Array.from({ length: 30 }, () => post('127.0.0.1'))
  await until(() => s.campaign.requests.length >= 10)
  t.equal((await post('127.0.0.2')).status, 200, 'another integration is not affected')
  const answers = await Promise.all(calls)
  const refused = answers.filter(a => a.status === 503)
  t.equal(answers.filter(a => a.status === 200).length, 10, '10 answered by Campaign')
  t.equal(refused.length, 20, '20 refused')
  t.ok(refused.every(a => a.headers['retry-after'] === '1'), 'with Retry-After')
  t.ok(refused.every(a => a.text.includes(PROXY_FAULTS.overloaded.message) && a.text.includes('integration batch') && a.text.includes('limits.queueTimeoutSeconds')), 'and a fault naming the integration and the limit')
  t.equal(s.campaign.requests.filter(r => r.headers['x-forwarded-for'] === '127.0.0.1').length, 10, 'only the 10 admitted reached Campaign')
  const metrics = (await send(`${s.server.adminUrl}/metrics`)).text
  t.match(metrics, 'campaign_ims_proxy_concurrency_rejections_total{integration="batch"} 20', 'the refusals are counted')
  t.equal((await post('127.0.0.1')).status, 200, 'then the integration has its slots back')
})

t.test('the same with Campaign answering after 0.2 s: all 30 succeed through the queue', async t => {
  const s = await startProxyStack(t, { integrations: TWO_INTEGRATIONS, extra: 'limits: { maxConcurrentRequests: 10, queueTimeoutSeconds: 10 }' })
  s.campaign.faults.inject({ kind: 'latency', ms: 200 }, { times: 30 })
  const answers = await Promise.all(Array.from({ length: 30 }, () => postFrom(s.soapRouter, '127.0.0.1')))
  t.same([...new Set(answers.map(a => a.status))], [200], 'every call answered by Campaign')
})

t.test('a full queue refuses at once; a waiting client that leaves gives up its place', async t => {
  const s = await startProxyStack(t, { integrations: TWO_INTEGRATIONS, extra: 'limits: { maxConcurrentRequests: 1, queueDepth: 1, queueTimeoutSeconds: 60 }' })
  s.campaign.faults.inject({ kind: 'latency', ms: 1500 }, { times: 1 })
  const first = postFrom(s.soapRouter, '127.0.0.1')
  await until(() => s.campaign.requests.length >= 1)
  // The second waits; it gives up, and a third takes its place in the queue.
  const leaving = request(s.soapRouter, { method: 'POST', headers: { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(getOption) }, localAddress: '127.0.0.1', agent: false })
  leaving.on('error', () => {})
  leaving.end(getOption)
  const queued = async (n: number): Promise<void> => {
    for (let i = 0; i < 1000; i++) {
      if ((await send(`${s.server.adminUrl}/metrics`)).text.includes(`campaign_ims_proxy_queued_requests{integration="batch"} ${n}`)) return
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  }
  await queued(1)
  const full = await postFrom(s.soapRouter, '127.0.0.1')
  t.equal(full.status, 503, 'the queue of one is full: the next is refused at once')
  t.match(full.text, 'limits.queueDepth', 'saying which limit')
  leaving.destroy()
  await queued(0)
  const third = postFrom(s.soapRouter, '127.0.0.1')
  t.same([(await first).status, (await third).status], [200, 200], 'the first completes, and the place freed by the client that left is used')
  t.equal(s.campaign.requests.length, 2, 'the request of the client that left never reached Campaign')
})

t.test('the process-wide limit queues across integrations', async t => {
  const s = await startProxyStack(t, { integrations: TWO_INTEGRATIONS, extra: 'limits: { maxConcurrentRequestsTotal: 1, queueTimeoutSeconds: 60 }' })
  s.campaign.faults.inject({ kind: 'latency', ms: 1000 }, { times: 1 })
  const first = postFrom(s.soapRouter, '127.0.0.1')
  await until(() => s.campaign.requests.length >= 1)
  const second = postFrom(s.soapRouter, '127.0.0.2')
  t.same([(await first).status, (await second).status], [200, 200], 'another integration\'s call waits for the process slot, then is answered')
  t.equal(s.campaign.requests.length, 2, 'one after the other')
})

t.test('one connection pipelining: at most limits.maxPipelinedRequests of its requests in progress', async t => {
  const s = await startProxyStack(t, { integrations: TWO_INTEGRATIONS, extra: 'limits: { maxPipelinedRequests: 4 }' })
  s.campaign.faults.inject({ kind: 'latency', ms: 1500 }, { times: 4 })
  const { port } = new URL(s.server.proxyUrl)
  const socket = connect({ port: Number(port), host: '127.0.0.1', localAddress: '127.0.0.1' })
  let raw = ''
  // Status lines follow the previous body directly (the bodies have no trailing newline).
  const statuses = (): string[] => raw.match(/HTTP\/1\.1 \d{3}/g) ?? []
  const done = new Promise<void>(resolve => {
    socket.on('data', (chunk: Buffer) => { raw += chunk.toString('latin1'); if (statuses().length >= 6) resolve() })
  })
  socket.on('error', () => {})
  t.teardown(() => { socket.destroy() })
  await once(socket, 'connect')
  socket.write('GET /r/test HTTP/1.1\r\nHost: proxy\r\n\r\n'.repeat(6))
  await until(() => s.campaign.requests.length >= 4)
  t.equal((await send(`${s.server.proxyUrl}/r/test`, { localAddress: '127.0.0.1' })).status, 200, 'another connection of the same integration is answered')
  await done
  t.same(statuses(), ['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 503', 'HTTP/1.1 503'], 'four pipelined requests answered, the two beyond the limit refused')
  t.match(raw, 'limits.maxPipelinedRequests', 'saying which limit')
  t.equal(s.campaign.requests.length, 5, 'Campaign saw the four and the other connection\'s call')
})

t.test('unidentified callers share their own budget', async t => {
  const s = await startProxyStack(t, { integrations: '  - { name: website, networks: [127.0.0.2/32], technicalAccount: events }', extra: 'limits: { maxUnidentifiedRequests: 1, queueDepth: 0 }' })
  s.campaign.faults.inject({ kind: 'latency', ms: 1500 }, { times: 1 })
  const slow = send(`${s.server.proxyUrl}/r/test`, { localAddress: '127.0.0.1' })
  await until(() => s.campaign.requests.length >= 1)
  const second = await send(`${s.server.proxyUrl}/r/test`, { localAddress: '127.0.0.3' })
  t.equal(second.status, 503, 'a second anonymous caller is over the unidentified budget')
  t.match(second.text, 'unidentified callers', 'and is told so')
  t.equal((await postFrom(s.soapRouter, '127.0.0.2')).status, 200, 'the integration is not affected')
  t.equal((await slow).status, 200, 'the first completes')
})

t.test('cold proxy, default limits: 1,000 concurrent first PushEvents of one integration are all answered, with one token request', async t => {
  const s = await startProxyStack(t, { integrations: '  - { name: mc, networks: [127.0.0.1/32], technicalAccount: events }', waitForTokens: false })
  const push = soapEnvelope({ schema: 'nms:rtEvent', method: 'PushEvent', params: [['domEvent', { xml: '<rtEvent type="order" email="a@example.com"/>' }]] })
  const agent = new Agent({ keepAlive: true, maxSockets: 250 })
  t.teardown(() => { agent.destroy() })
  const statuses = await Promise.all(Array.from({ length: 1000 }, async () => await new Promise<number>(resolve => {
    const req = request(s.soapRouter, { method: 'POST', agent, headers: { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(push) } }, res => { res.resume(); res.on('end', () => { resolve(res.statusCode ?? 0) }) })
    req.on('error', () => { resolve(0) })
    req.end(push)
  })))
  t.same([statuses.length, [...new Set(statuses)]], [1000, [200]], '1,000 answered 200')
  t.equal(s.campaign.requests.filter(r => r.url === '/nl/jsp/soaprouter.jsp').length, 1000, 'all of them by Campaign')
  t.equal(s.ims.tokenRequests('events-client'), 1, 'one token request')
})
