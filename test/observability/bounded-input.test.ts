// Text a caller controls is stored bounded: megabyte logins and SOAP method
// namespaces become fixed-size digests in the inventory, the metric labels
// and the access lines, so /metrics and /integrations stay small.
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { boundedMessage, boundedText, errorCode, MAX_MESSAGE_TEXT, MAX_STORED_TEXT, upstreamErrorFields } from '../../src/observability/bounded.js'
import { send, soapPost } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'

const ENVELOPE = (method: string, urn: string, params: string): string =>
  `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:${method} xmlns:m="${urn}">${params}</m:${method}></s:Body></s:Envelope>`

t.test('boundedText keeps short printable text and digests the rest', async t => {
  t.equal(boundedText('nms:rtEvent#PushEvent'), 'nms:rtEvent#PushEvent', 'a method name as it is')
  t.equal(boundedText(undefined), undefined, 'nothing stays nothing')
  t.match(boundedText('a'.repeat(MAX_STORED_TEXT + 1)), /^sha256:[0-9a-f]{32}$/, 'too long: a digest')
  t.match(boundedText('crm\nop'), /^sha256:/, 'a control character: a digest')
  t.equal(boundedText('x'.repeat(1e6)), boundedText('x'.repeat(1e6)), 'the same text, the same digest (the inventory still groups it)')
})

t.test('boundedMessage keeps a short printable message and digests the rest', async t => {
  t.equal(boundedMessage('connect ECONNREFUSED 127.0.0.1:443'), 'connect ECONNREFUSED 127.0.0.1:443', 'a library message as it is, spaces included')
  t.equal(boundedMessage('m'.repeat(MAX_MESSAGE_TEXT)), 'm'.repeat(MAX_MESSAGE_TEXT), 'up to the limit as it is')
  t.match(boundedMessage('m'.repeat(MAX_MESSAGE_TEXT + 1)), /^\(257 characters, sha256:[0-9a-f]{32}\)$/, 'one more: its length and a digest')
  t.match(boundedMessage('bad\r\nX-Injected: 1'), /^\(18 characters, sha256:/, 'a control character: a digest')
})

t.test('errorCode: the first code-shaped code of an error or its causes', async t => {
  const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
  t.equal(errorCode(refused), 'ECONNREFUSED', 'the error\'s own code')
  t.equal(errorCode(new TypeError('fetch failed', { cause: refused })), 'ECONNREFUSED', 'a cause\'s code when the error has none')
  t.equal(errorCode(Object.assign(new Error('x', { cause: refused }), { code: 'has spaces: no' })), 'ECONNREFUSED', 'a code that is not code-shaped is skipped')
  t.equal(errorCode(Object.assign(new Error('x'), { code: 'C'.repeat(65) })), undefined, 'a code longer than 64 characters is none')
  t.equal(errorCode(Object.assign(new Error('x'), { code: 42 })), undefined, 'a number is no code')
  let deep: unknown = refused
  for (let i = 0; i < 5; i++) deep = new Error(`wrap ${i}`, { cause: deep })
  t.equal(errorCode(deep), undefined, 'causes are followed four deep, no further')
  t.equal(errorCode('ECONNREFUSED'), undefined, 'a string thrown is no error')
  t.equal(errorCode(null), undefined, 'nor is null')
})

t.test('upstreamErrorFields: type, code and bounded message, never the error\'s other fields', async t => {
  const parser = Object.assign(new Error('Response does not match the HTTP/1.1 protocol (Invalid header value char)'), { name: 'HTTPParserError', code: 'HPE_INVALID_HEADER_TOKEN', data: 'Bearer eyJ...' })
  t.strictSame(upstreamErrorFields(parser), { type: 'HTTPParserError', code: 'HPE_INVALID_HEADER_TOKEN', message: 'Response does not match the HTTP/1.1 protocol (Invalid header value char)' }, 'no data field')
  t.strictSame(upstreamErrorFields(Object.assign(new Error('m'), { name: 'not a <name>' })), { type: 'Error', code: undefined, message: 'm' }, 'a name that is not identifier-shaped is Error')
  t.match(upstreamErrorFields('x'.repeat(1000)), { type: 'Error', code: undefined, message: /^\(1000 characters, sha256:/ }, 'something thrown that is not an Error: its text, bounded')
})

// A login longer than a parameter's 4 KiB budget is not even read (the
// scanner stops there); the 4,000-character ones below are read, and stored bounded.
t.test('100 long logins and 100 megabyte method namespaces: /metrics and /integrations stay under 2 MB', async t => {
  const upstream = createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'text/xml' }); res.end('<ok/>') }) })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  t.teardown(() => { upstream.close() })
  const s = await startProxyStack(t, {
    integrations: '  - { name: website, networks: [127.0.0.2/32], technicalAccount: marketing }',
    campaignUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    extra: 'unknownCallers: reject',
  })
  const huge = (i: number): string => `${i}-${'a'.repeat(1_000_000)}`
  for (let i = 0; i < 100; i++) {
    const logon = await soapPost(s.soapRouter, ENVELOPE('Logon', 'urn:xtk:session', `<sessiontoken/><strLogin>${i}-${'a'.repeat(4000)}</strLogin><strPassword>x</strPassword>`), {}, 'xtk:session#Logon')
    t.equal(logon.status, 500, 'an unknown login is refused') || t.bailout()
    const call = await send(s.soapRouter, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: ENVELOPE('PushEvent', `urn:${huge(i)}`, '<sessiontoken/>'), localAddress: '127.0.0.2' })
    t.equal(call.status, 400, 'a method in a megabyte namespace is refused') || t.bailout()
  }
  const metrics = (await send(`${s.server.adminUrl}/metrics`)).body.length
  const inventory = await send(`${s.server.adminUrl}/integrations`)
  t.ok(metrics < 2 * 1024 ** 2, `/metrics is ${metrics} bytes`)
  t.ok(inventory.body.length < 2 * 1024 ** 2, `/integrations is ${inventory.body.length} bytes`)
  const report = JSON.parse(inventory.text) as { unknownCallers: Array<{ login: string | null }>, integrations: Array<{ name: string, methods: Record<string, number> }> }
  const logins = report.unknownCallers.filter(c => c.login !== null)
  t.ok(logins.length >= 100 && logins.every(c => /^sha256:/.test(String(c.login))), 'every unknown login is stored as a digest')
  const long = await send(s.soapRouter, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: ENVELOPE('PushEvent', `urn:${'n'.repeat(900)}`, '<sessiontoken/>'), localAddress: '127.0.0.2' })
  t.equal(long.status, 200, 'a long namespace within the scanner\'s bound is forwarded')
  const methods = Object.keys(report.integrations.find(i => i.name === 'website')?.methods ?? {})
  const after = JSON.parse((await send(`${s.server.adminUrl}/integrations`)).text) as typeof report
  const stored = Object.keys(after.integrations.find(i => i.name === 'website')?.methods ?? {})
  t.same(methods, [], 'the refused calls recorded no method')
  t.ok(stored.length === 1 && stored.every(m => /^sha256:/.test(m)), 'the long one is stored as a digest')
  t.ok(s.logs.every(line => line.length < 10_000), 'no log line holds the caller\'s megabytes')
})
