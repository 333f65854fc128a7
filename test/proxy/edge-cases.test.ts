// Edge cases of the request path: Basic credentials of an unknown caller,
// a request without Host, Campaign naming extra hop-by-hop headers, streams
// that fail while a small body is read, odd LogonResponses and subjects.
import { PassThrough } from 'node:stream'
import t from 'tap'
import { normaliseSubject } from '../../src/config/subject.js'
import { readAll } from '../../src/io/streams.js'
import { downstreamHeaders } from '../../src/proxy/headers.js'
import { logonResponseSessionToken } from '../../src/proxy/inspect.js'
import { rawBody, rawExchange, send } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'
import { problemsOf, withMinimal } from '../fixtures/config.js'

t.test('Basic credentials of an unknown caller are legacy authentication, passed through', async t => {
  const s = await startProxyStack(t, { integrations: '  - { name: esb, networks: [10.0.0.0/8], technicalAccount: events }' })
  const answer = await send(`${s.server.proxyUrl}/r/test`, { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } })
  t.equal(answer.status, 200, 'forwarded')
  t.equal(s.campaign.requests.at(-1)?.headers.authorization, 'Basic YWRtaW46YWRtaW4=', 'untouched')
  const metrics = (await send(`${s.server.adminUrl}/metrics`)).text
  t.match(metrics, /requests_total\{[^}]*auth_path="passthrough"[^}]*\} 1/, 'counted as passthrough')
})

t.test('a passthrough integration recognised by its network, calling without credentials', async t => {
  const s = await startProxyStack(t, { integrations: '  - { name: intranet-app, mode: passthrough, networks: [127.0.0.1/32] }', extra: 'unknownCallers: reject' })
  t.equal((await send(`${s.server.proxyUrl}/r/test`)).status, 200, 'admitted under reject, forwarded untouched')
  const inventory = JSON.parse((await send(`${s.server.adminUrl}/integrations`)).text) as { integrations: Array<{ authPaths: Record<string, number> }> }
  t.same(inventory.integrations[0]?.authPaths, { passthrough: 1 }, 'counted as legacy (passthrough) authentication')
})

t.test('an HTTP/1.0 WSDL request without Host: the WSDL names a relative endpoint, not Campaign', async t => {
  const s = await startProxyStack(t, { integrations: '  - { name: esb, networks: [127.0.0.1/32], technicalAccount: events }' })
  const answer = await rawExchange(s.server.proxyUrl, 'GET /nl/jsp/schemawsdl.jsp?schema=nms:rtEvent HTTP/1.0')
  t.match(answer, /^HTTP\/1\.1 200/, 'answered')
  t.match(rawBody(answer), 'location="/nl/jsp/soaprouter.jsp"', 'no client origin to put there: the relative endpoint')
  t.notOk(answer.includes(new URL(s.campaign.url).host), "Campaign's host and port appear nowhere")
})

t.test('hop-by-hop response headers, including those Connection names, are dropped', async t => {
  t.same(downstreamHeaders({ connection: 'keep-alive, X-Internal', 'keep-alive': 'timeout=5', 'x-internal': 'a', 'proxy-authenticate': 'b', 'content-type': 'text/xml', 'set-cookie': ['a=1', 'b=2'] }),
    { 'content-type': 'text/xml', 'set-cookie': ['a=1', 'b=2'] }, 'only end-to-end headers are left')
  t.same(downstreamHeaders({ 'content-length': '3' }), { 'content-length': '3' }, 'nothing to drop')
})

t.test('reading a small body: errors and early ends are reported', async t => {
  const failing = new PassThrough()
  const read = readAll(failing)
  failing.write('half')
  failing.destroy(new Error('socket hang up'))
  await t.rejects(read, { message: 'socket hang up' }, 'a stream error')
  const closed = new PassThrough()
  const early = readAll(closed)
  closed.write('half')
  closed.destroy()
  await t.rejects(early, { code: 'ECONNRESET' }, 'a stream closed before its end')
  const whole = new PassThrough()
  const parts = readAll(whole)
  whole.write('a')
  whole.end('b')
  const gathered = await parts
  t.same(gathered.chunks.map(chunk => chunk.toString()), ['a', 'b'], 'several chunks, as they came')
  t.equal(gathered.size, 2, 'their size')
})

t.test('LogonResponse session tokens and certificate subjects', async t => {
  t.equal(logonResponseSessionToken(Buffer.from("<pstrSessionToken xsi:type='xsd:string'>___abc</pstrSessionToken>")), '___abc', 'a token')
  t.equal(logonResponseSessionToken(Buffer.from("<pstrSessionToken xsi:type='xsd:string'>  </pstrSessionToken>")), undefined, 'blank: none')
  t.equal(logonResponseSessionToken(Buffer.from('<Fault/>')), undefined, 'a fault: none')
  t.equal(normaliseSubject(' cn = crm , o=Acme,,OU'), 'CN=crm,O=Acme,OU', 'names upper-cased, spaces and empty parts dropped, odd parts kept')
  t.same(problemsOf(withMinimal('listen:\n  tls: {}\n')), ['listen.tls.certFile: is required', 'listen.tls.keyFile: is required'], 'TLS without its files')
})
