// Campaign rejecting the proxy's token (docs/architecture.md#token-rejection): which answers
// count as a rejection, when the request is replayed, and what the client
// sees when it cannot be.
import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { PROXY_FAULTS } from '../../src/soap/faults.js'
import { isTokenRejectionFault } from '../../src/proxy/inspect.js'
import { send, soapPost } from '../fixtures/http.js'
import { startProxyStack, type ProxyStack, type ProxyStackOptions } from '../fixtures/proxy-stack.js'
import { soapEnvelope } from '../fixtures/soap.js'

const INTEGRATION = '  - { name: website, networks: [127.0.0.1/32], technicalAccount: marketing }'
const getOption = soapEnvelope({ schema: 'xtk:session', method: 'GetOption', params: [['name', 'XtkDatabaseId']] })
/** Over the 1 KiB replay limit of the streaming test, with its method and parameters in the head. */
const bigCall = getOption.replace('</SOAP-ENV:Body>', `<!-- ${'padding '.repeat(1000)}--></SOAP-ENV:Body>`)

/** A stack whose clock the test can move. */
async function stack (t: Test, options: Partial<ProxyStackOptions> = {}): Promise<ProxyStack & { age (ms: number): void }> {
  let skew = 0
  const s = await startProxyStack(t, { integrations: INTEGRATION, hooks: { now: () => Date.now() + skew }, ...options })
  return Object.assign(s, { age: (ms: number) => { skew += ms } })
}

t.test('fault flavours and statuses that mean "token not accepted"', async t => {
  for (const [flavour, faultStatus] of [['session-expired', 500], ['session-expired', 200], ['ims-profile-401', 500], ['ims-profile-401', 200]] as const) {
    const s = await stack(t, { campaign: { invalidBearerFault: flavour, faultStatus } })
    const first = await s.server.tokens.get('marketing')
    s.ims.authority.revoke(first.value)
    s.age(2000)
    const response = await soapPost(s.soapRouter, getOption, {}, 'xtk:session#GetOption')
    t.equal(response.status, 200, `${flavour} with status ${faultStatus}: the call is replayed and succeeds`)
    const bearers = s.campaign.requests.map(r => r.headers.authorization)
    t.equal(bearers.length, 2, 'Campaign saw the call twice')
    t.not(bearers[0], bearers[1], 'the second time with a new token')
    t.equal(s.ims.tokenRequests('marketing-client'), 2, 'one extra token request')
  }
})

t.test('HTTP 401 from Campaign: invalidated, replayed', async t => {
  const s = await stack(t)
  s.campaign.faults.inject({ kind: 'status', status: 401, body: 'unauthorized' })
  s.age(2000)
  const response = await soapPost(s.soapRouter, getOption, {}, 'xtk:session#GetOption')
  t.equal(response.status, 200, 'the replay succeeds')
  t.equal(s.ims.tokenRequests('marketing-client'), 2, 'after one new token')
})

t.test('a token rejected in its first second is invalidated at once: the call is replayed with a new one', async t => {
  const s = await stack(t)
  const token = await s.server.tokens.get('marketing')
  s.ims.authority.revoke(token.value)
  const response = await soapPost(s.soapRouter, getOption, {}, 'xtk:session#GetOption')
  t.equal(response.status, 200, 'no minimum age: the start-up token is dropped at its first rejection')
  t.equal(s.campaign.requests.length, 2, 'the call, and its replay')
  t.equal(s.ims.tokenRequests('marketing-client'), 2, 'after one new token')
})

t.test('a kept body read in several chunks is sent, and replayed, byte for byte', async t => {
  const s = await stack(t)
  const token = await s.server.tokens.get('marketing')
  s.ims.authority.revoke(token.value)
  // 200 KB: more than one read of the socket (64 KiB each), within the default replay limit.
  const call = getOption.replace('</SOAP-ENV:Body>', `<!-- ${'padding '.repeat(25_000)}--></SOAP-ENV:Body>`)
  const response = await soapPost(s.soapRouter, call, {}, 'xtk:session#GetOption')
  t.equal(response.status, 200, 'replayed after the rejection, and answered')
  t.equal(s.campaign.requests.length, 2, 'Campaign saw the call twice')
  const [first, second] = s.campaign.requests
  t.ok(first !== undefined && first.body.equals(Buffer.from(call)), 'the first time every byte as sent (no token to empty)')
  t.ok(second !== undefined && second.body.equals(Buffer.from(call)), 'the replay the same bytes')
  t.equal(second?.headers['content-length'], String(Buffer.byteLength(call)), 'with its exact length')
})

t.test('a streamed body cannot be replayed: Campaign\'s answer is returned, the token is renewed for the next calls', async t => {
  const s = await stack(t, { extra: 'limits: { replayLimitBytes: 1KiB, headBytes: 1KiB }' })
  const token = await s.server.tokens.get('marketing')
  s.ims.authority.revoke(token.value)
  s.age(2000)
  const response = await soapPost(s.soapRouter, bigCall, {}, 'xtk:session#GetOption')
  t.equal(response.status, 500, 'the client gets Campaign\'s answer')
  t.match(response.text, 'XSV-350008', 'unchanged')
  t.equal(s.campaign.requests.length, 1, 'sent once')
  const next = await soapPost(s.soapRouter, getOption, {}, 'xtk:session#GetOption')
  t.equal(next.status, 200, 'the next call works')
  t.equal(s.ims.tokenRequests('marketing-client'), 2, 'with the token fetched after the rejection')
})

t.test('no new token (IMS down): Campaign\'s answer is returned', async t => {
  const s = await stack(t)
  const token = await s.server.tokens.get('marketing')
  await s.ims.refuseConnections(true)
  s.ims.authority.revoke(token.value)
  s.age(2000)
  const response = await soapPost(s.soapRouter, getOption, {}, 'xtk:session#GetOption')
  t.equal(response.status, 500, 'Campaign\'s fault status')
  t.match(response.text, 'XSV-350008', 'and its fault: the client logs on again or retries later')
  t.equal(s.campaign.requests.length, 1, 'no replay without a token')
})

t.test('a connection cut while the proxy reads a small answer becomes a 502 fault', async t => {
  const s = await stack(t)
  s.campaign.faults.inject({ kind: 'reset-mid-response' })
  const response = await soapPost(s.soapRouter, getOption, {}, 'xtk:session#GetOption')
  t.equal(response.status, 502, 'a gateway fault')
  t.match(response.text, PROXY_FAULTS.upstreamUnavailable.message, 'saying Campaign could not be reached')
  t.notMatch(response.text, /127\.0\.0\.1:\d+/, 'without the upstream address')
})

/** A tiny upstream answering from a script, to control statuses and sizes exactly. */
async function upstream (t: Test, answer: (req: IncomingMessage, res: ServerResponse, n: number) => void): Promise<{ url: string, seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = []
  const server = createServer((req, res) => {
    seen.push(req)
    req.resume()
    req.on('end', () => answer(req, res, seen.length))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

t.test('a GET (no body) is replayed too; large answers stream through unread', async t => {
  const big = `<?xml version='1.0'?><SOAP-ENV:Envelope xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/'><SOAP-ENV:Body>${'<x>XSV-350008</x>'.repeat(5000)}</SOAP-ENV:Body></SOAP-ENV:Envelope>`
  const u = await upstream(t, (req, res, n) => {
    if (req.url?.startsWith('/nl/jsp/schemawsdl.jsp') === true && n === 1) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('expired')
    } else if (req.url?.startsWith('/nl/jsp/schemawsdl.jsp') === true) {
      res.writeHead(200, { 'content-type': 'text/xml' }).end('<wsdl/>')
    } else {
      res.writeHead(200, { 'content-type': 'text/xml' })
      res.end(big)
    }
  })
  const s = await stack(t, { campaignUrl: u.url, extra: 'wsdl: { technicalAccount: marketing }' })
  s.age(2000)
  const wsdl = await send(`${s.server.proxyUrl}/nl/jsp/schemawsdl.jsp?schema=nms:rtEvent`, { localAddress: '127.0.0.9' })
  t.equal(wsdl.status, 200, 'the anonymous WSDL GET is replayed after a 401')
  t.equal(wsdl.text, '<wsdl/>', 'with the second answer only')
  t.not(u.seen[0]?.headers.authorization, u.seen[1]?.headers.authorization, 'a new token the second time')
  const large = await soapPost(s.soapRouter, getOption, {}, 'xtk:session#GetOption')
  t.equal(large.status, 200, 'a large answer')
  t.equal(large.text, big, 'is streamed through unchanged, even when it mentions a fault code')
  t.equal(u.seen.length, 3, 'and not replayed')
})

t.test('what counts as a rejection fault', async t => {
  t.ok(isTokenRejectionFault(Buffer.from('<Fault><faultstring>XSV-350008 Session has expired</faultstring></Fault>')), 'XSV-350008')
  t.ok(isTokenRejectionFault(Buffer.from("<Fault>SOP-330007 XSV-350114 Unknown error during '/ims/profile/v1' IMS call, HTTP response code is 401</Fault>")), 'XSV-350114 ... 401')
  t.notOk(isTokenRejectionFault(Buffer.from('<Fault>XSV-350114 IMS call, HTTP response code is 500</Fault>')), 'XSV-350114 with another status')
  t.notOk(isTokenRejectionFault(Buffer.from('<result>XSV-350008 in a payload</result>')), 'a code outside a fault')
})

t.test('a token revoked mid-traffic: every concurrent request is replayed and succeeds, one extra token request', async t => {
  const s = await stack(t)
  const before = await Promise.all(Array.from({ length: 20 }, () => soapPost(s.soapRouter, getOption, {}, 'xtk:session#GetOption')))
  t.same([...new Set(before.map(r => r.status))], [200], 'traffic flows')
  const revokedValue = (await s.server.tokens.get('marketing')).value
  s.ims.authority.revoke(revokedValue)
  s.age(2000)
  const during = await Promise.all(Array.from({ length: 50 }, () => soapPost(s.soapRouter, getOption, {}, 'xtk:session#GetOption')))
  t.same([...new Set(during.map(r => r.status))], [200], '50 concurrent requests on the revoked token all succeed')
  t.equal(s.ims.tokenRequests('marketing-client'), 2, 'exactly one extra token request')
  const metrics = await fetch(`${s.server.adminUrl}/metrics`).then(async r => await r.text())
  t.match(metrics, 'campaign_ims_proxy_token_invalidations_total{account="marketing"} 1', 'one invalidation (compare-and-invalidate)')
  const replayed = Number(/campaign_ims_proxy_replays_total\{account="marketing",result="replayed"\} (\d+)/.exec(metrics)?.[1])
  const rejected = s.campaign.requests.slice(20).filter(r => r.headers.authorization === `Bearer ${revokedValue}`).length
  t.ok(replayed >= 1 && replayed === rejected, `the ${rejected} requests Campaign rejected were each replayed once (the others, still being read, waited for the new token)`)
  t.equal(s.campaign.requests.length - 20, 50 + rejected, 'Campaign saw each request once, plus one replay per rejection')
})
