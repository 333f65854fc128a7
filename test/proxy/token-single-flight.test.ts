// Acceptance: two integrations on two technical accounts get two different
// tokens, and a cold proxy facing 1,000 concurrent first requests per
// account asks IMS for exactly one token per account.
import { Agent, request } from 'node:http'
import t from 'tap'
import { soapPost } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'
import { soapEnvelope } from '../fixtures/soap.js'

const REQUESTS_PER_ACCOUNT = 1000

function post (url: string, agent: Agent, body: string): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

t.test('1,000 concurrent first requests per account: one token request per account', async t => {
  const s = await startProxyStack(t, {
    integrations: '  - { name: website, networks: [127.0.0.1/32], technicalAccount: events }\n  - { name: crm, networks: [127.0.0.2/32], technicalAccount: marketing }',
    waitForTokens: false,
    // Slow IMS: every first request arrives while the start-up fetch is still in flight.
    beforeStart: ({ ims }) => { ims.faults.always({ kind: 'latency', ms: 400 }) },
  })
  const agents = ['127.0.0.1', '127.0.0.2'].map(localAddress => new Agent({ keepAlive: true, maxSockets: 200, localAddress }))
  t.teardown(() => { for (const a of agents) a.destroy() })
  const body = soapEnvelope({ schema: 'xtk:session', method: 'GetUserInfo' })
  const results = await Promise.all(agents.flatMap(agent =>
    Array.from({ length: REQUESTS_PER_ACCOUNT }, () => post(s.soapRouter, agent, body))))

  t.equal(results.filter(r => r.status === 200).length, 2 * REQUESTS_PER_ACCOUNT, 'every request succeeded')
  t.equal(s.ims.tokenRequests('events-client'), 1, 'exactly one token request for the events account')
  t.equal(s.ims.tokenRequests('marketing-client'), 1, 'exactly one token request for the marketing account')
  const logins = new Set(results.map(r => /login="([^"]+)"/.exec(r.body)?.[1]))
  t.same([...logins].sort(), ['eventsclient@techacct.adobe.com', 'marketingclient@techacct.adobe.com'], "each integration acted as its own account's operator")
  const bearers = new Set(s.campaign.requests.map(r => r.headers.authorization))
  t.equal(bearers.size, 2, 'two different tokens reached Campaign')
})

t.test('concurrent first calls with the same inline login/password all succeed (they share one in-flight password check)', async t => {
  const { hashPassword } = await import('../../src/auth/passwords.js')
  const hash = await hashPassword('herd-password')
  const s = await startProxyStack(t, { integrations: `  - { name: herd, login: herd_operator, passwordHash: '${hash}', technicalAccount: marketing }` })
  const call = (password: string): string => soapEnvelope({ schema: 'nms:rtEvent', method: 'PushEvent', sessionToken: `herd_operator/${password}`, params: [['domEvent', { xml: '<rtEvent type="x" email="h@example.com"/>' }]] })
  const right = await Promise.all(Array.from({ length: 200 }, () => soapPost(s.soapRouter, call('herd-password'), {}, 'nms:rtEvent#PushEvent')))
  t.same([...new Set(right.map(r => r.status))], [200], '200 concurrent first calls all succeed')
  const wrong = await Promise.all(Array.from({ length: 20 }, () => soapPost(s.soapRouter, call('not-it'), {}, 'nms:rtEvent#PushEvent')))
  t.same([...new Set(wrong.map(r => r.status))], [500], 'concurrent wrong passwords all fail')
  t.match(wrong[0]?.text, 'XSV-350012', 'with the invalid-login fault')
})
