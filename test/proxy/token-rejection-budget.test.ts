// Token rejection at any age, with a budget instead of an age floor: a
// token revoked right after it was issued costs one new token; a Campaign
// rejecting every bearer costs IMS a token request per backoff step (1 s,
// 2 s, 4 s ... 60 s), and calls succeed again as soon as it accepts one.
import t from 'tap'
import { soapPost } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'
import { soapEnvelope } from '../fixtures/soap.js'

const INTEGRATION = '  - { name: website, networks: [127.0.0.1/32], technicalAccount: marketing }'
const getOption = soapEnvelope({ schema: 'xtk:session', method: 'GetOption', params: [['name', 'XtkDatabaseId']] })

t.test('a token revoked 100 ms after issue: 100 calls at concurrency 10 all succeed, one extra token request', async t => {
  const s = await startProxyStack(t, { integrations: INTEGRATION })
  const token = await s.server.tokens.get('marketing')
  s.ims.authority.revoke(token.value)
  const statuses: number[] = []
  for (let batch = 0; batch < 10; batch++) {
    const answers = await Promise.all(Array.from({ length: 10 }, async () => await soapPost(s.soapRouter, getOption, {}, 'xtk:session#GetOption')))
    statuses.push(...answers.map(a => a.status))
  }
  t.same([statuses.length, [...new Set(statuses)]], [100, [200]], 'all 100 answered 200')
  t.equal(s.ims.tokenRequests('marketing-client'), 2, 'exactly one token request more than the start-up one')
})

t.test('Campaign rejecting every bearer for 20 s of 10 calls/s: a handful of token requests, Campaign\'s answer to every call, then recovery', async t => {
  let now = Date.parse('2026-12-01T10:00:00Z')
  const s = await startProxyStack(t, { integrations: INTEGRATION, hooks: { now: () => now } })
  s.campaign.faults.always({ kind: 'status', status: 401, body: 'bearer refused' }, { path: '/nl/jsp/soaprouter.jsp' })
  const statuses = new Map<string, number>()
  for (let call = 0; call < 200; call++) {
    const answer = await soapPost(s.soapRouter, getOption, {}, 'xtk:session#GetOption')
    const key = `${answer.status} ${answer.text}`
    statuses.set(key, (statuses.get(key) ?? 0) + 1)
    now += 100
  }
  t.same([...statuses], [['401 bearer refused', 200]], 'every call gets Campaign\'s own answer, unchanged')
  const tokenRequests = s.ims.tokenRequests('marketing-client')
  t.ok(tokenRequests <= 8, `at most 8 token requests in 20 s (${tokenRequests}: the start-up one, then one per backoff step of 1, 2, 4, 8, 16 s)`)
  t.ok(tokenRequests >= 3, `but the budget lets some through (${tokenRequests})`)
  const metrics = await fetch(`${s.server.adminUrl}/metrics`).then(async r => await r.text())
  t.match(metrics, /replays_total\{account="marketing",result="held_back"\} \d+/, 'the held-back calls are counted')
  s.campaign.faults.clear()
  const recovered = await soapPost(s.soapRouter, getOption, {}, 'xtk:session#GetOption')
  t.equal(recovered.status, 200, 'once Campaign accepts the token again, calls succeed')
  s.campaign.faults.always({ kind: 'status', status: 401, body: 'bearer refused' }, { path: '/nl/jsp/soaprouter.jsp' })
  const before = s.ims.tokenRequests('marketing-client')
  await soapPost(s.soapRouter, getOption, {}, 'xtk:session#GetOption')
  t.equal(s.ims.tokenRequests('marketing-client'), before + 1, 'and an accepted call reset the budget: the next rejection invalidates at once')
})
