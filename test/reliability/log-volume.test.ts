// An outage is one event: logged when the state changes, with its cause;
// each call during it has only its access line (with the fault code). The
// log volume of an IMS or Campaign outage under load does not grow with
// the number of calls.
import t from 'tap'
import { soapPost } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'
import { soapEnvelope } from '../fixtures/soap.js'

const CALL = soapEnvelope({ schema: 'xtk:session', method: 'GetOption', params: [['name', 'XtkDatabaseId']] })
const INTEGRATION = '  - { name: website, networks: [127.0.0.1/32], technicalAccount: events }'

/** Lines at warn level or above, and the access lines. */
function tally (logs: readonly string[]): { loud: string[], access: string[] } {
  const lines = logs.join('').split('\n').filter(l => l !== '').map(l => JSON.parse(l) as { level: number, msg: string, fault?: string })
  return { loud: lines.filter(l => l.level >= 40).map(l => l.msg), access: lines.filter(l => l.msg === 'request').map(l => String(l.fault)) }
}

t.test('an IMS outage under load: a bounded number of warnings, one access line per call', async t => {
  // IMS throttles with a long Retry-After: the provider waits an hour before it asks again, and calls are refused at once meanwhile.
  const s = await startProxyStack(t, { integrations: INTEGRATION, waitForTokens: false, beforeStart: ({ ims }) => { ims.faults.always({ kind: 'status', status: 429, headers: { 'retry-after': '3600' } }) } })
  for (let i = 0; i < 500 && s.ims.tokenRequests('events-client') < 1; i++) await new Promise(resolve => setTimeout(resolve, 10))
  const answers = []
  for (let batch = 0; batch < 10; batch++) answers.push(...await Promise.all(Array.from({ length: 20 }, async () => await soapPost(s.soapRouter, CALL, {}, 'xtk:session#GetOption'))))
  t.same([...new Set(answers.map(a => a.status))], [503], '200 calls, all refused for want of a token')
  const { loud, access } = tally(s.logs)
  t.equal(access.filter(f => f === 'PRX-000010').length, 200, 'each has its access line with the fault code')
  t.ok(loud.length <= 4, `and the outage costs a bounded number of warnings, not one per call (${loud.length}: ${JSON.stringify(loud)})`)
})

t.test('a Campaign outage under load: one warning when it starts, one line when it ends', async t => {
  const s = await startProxyStack(t, { integrations: INTEGRATION })
  await s.campaign.refuseConnections(true)
  const down = []
  for (let batch = 0; batch < 5; batch++) down.push(...await Promise.all(Array.from({ length: 20 }, async () => await soapPost(s.soapRouter, CALL, {}, 'xtk:session#GetOption'))))
  t.same([...new Set(down.map(a => a.status))], [502], '100 calls while Campaign is down: 502')
  await s.campaign.refuseConnections(false)
  t.equal((await soapPost(s.soapRouter, CALL, {}, 'xtk:session#GetOption')).status, 200, 'Campaign back: answered')
  const { loud, access } = tally(s.logs)
  t.same(loud, ['Campaign unreachable: requests get 502/504 until it answers again'], 'one warning for the whole outage')
  t.ok(s.logs.join('').includes('"msg":"Campaign answers again"'), 'and one line when it ends')
  t.equal(access.filter(f => f === 'PRX-000011').length, 100, 'each failed call has its access line with the fault code')
})
