// Compatibility matrix, raw HTTP message styles: each legacy style goes
// through the proxy unchanged except for the emptied session token, and
// Campaign (strict, IMS-mandatory simulator) answers it. Every test asserts
// the client's result and the exact bytes and headers Campaign received.
import { once } from 'node:events'
import { Agent, request } from 'node:http'
import { connect } from 'node:net'
import t, { type Test } from 'tap'
import { hashPassword } from '../../src/auth/passwords.js'
import { send, type HttpResult } from '../fixtures/http.js'
import { startProxyStack, type ProxyStack } from '../fixtures/proxy-stack.js'

const PASSWORD = 'mc-Passw0rd'
const INLINE = `mc_agent/${PASSWORD}`
const DATABASE_ID = 'uD5A3F1B7C2E94A0F8B6D1E3C5A7F9B2D4E6C8A0B'

async function stack (t: Test): Promise<ProxyStack> {
  const hash = await hashPassword(PASSWORD, { N: 1024 })
  return await startProxyStack(t, { integrations: `  - { name: message-center, login: mc_agent, passwordHash: '${hash}', technicalAccount: events }`, extra: 'unknownCallers: reject' })
}

/** SoapUI-style PushEvent (soapenv/urn prefixes), with `token` in `<urn:sessiontoken>`. */
const soapuiPushEvent = (token: string, eol = '\n'): string => [
  '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:nms:rtEvent">',
  '   <soapenv:Header/>',
  '   <soapenv:Body>',
  '      <urn:PushEvent>',
  `         <urn:sessiontoken>${token}</urn:sessiontoken>`,
  '         <urn:domEvent><rtEvent type="order" email="ann@example.com" origin="soapui"/></urn:domEvent>',
  '      </urn:PushEvent>',
  '   </soapenv:Body>',
  '</soapenv:Envelope>',
].join(eol)

async function check (t: Test, s: ProxyStack, response: HttpResult, sent: Buffer, expectedPlId: RegExp = /<plId xsi:type='xsd:long'>\d+<\/plId>/): Promise<void> {
  t.equal(response.status, 200, 'the client gets a success')
  t.match(response.text, expectedPlId, "and Campaign's answer")
  const upstream = s.campaign.requests.at(-1)
  const token = await s.server.tokens.get('events')
  t.equal(upstream?.headers.authorization, `Bearer ${token.value}`, "Campaign received the events account's bearer")
  const expected = Buffer.from(sent.toString('latin1').replace(`>${INLINE}<`, '><'), 'latin1')
  t.ok(upstream?.body.equals(expected), 'and exactly the sent bytes with the session token emptied')
  t.equal(upstream?.headers['content-length'], String(expected.length), 'with an exact Content-Length')
}

const post = (s: ProxyStack, body: Buffer, headers: Record<string, string>): Promise<HttpResult> => send(s.soapRouter, { method: 'POST', headers, body })

t.test('SoapUI style: soapenv/urn prefixes, <urn:sessiontoken>, quoted SOAPAction', async t => {
  const s = await stack(t)
  const body = Buffer.from(soapuiPushEvent(INLINE))
  await check(t, s, await post(s, body, { 'content-type': 'text/xml;charset=UTF-8', soapaction: '"nms:rtEvent#PushEvent"' }), body)
  t.equal(s.campaign.requests.at(-1)?.headers.soapaction, '"nms:rtEvent#PushEvent"', 'SOAPAction forwarded as sent (quoted)')
})

t.test('unquoted SOAPAction', async t => {
  const s = await stack(t)
  const body = Buffer.from(soapuiPushEvent(INLINE))
  await check(t, s, await post(s, body, { 'content-type': 'text/xml; charset=utf-8', soapaction: 'nms:rtEvent#PushEvent' }), body)
  t.equal(s.campaign.requests.at(-1)?.headers.soapaction, 'nms:rtEvent#PushEvent', 'SOAPAction forwarded as sent (unquoted)')
})

t.test("Campaign console style: <__sessiontoken xsi:type='xsd:string'>", async t => {
  const s = await stack(t)
  const body = Buffer.from("<?xml version='1.0' encoding='UTF-8'?><SOAP-ENV:Envelope xmlns:xsd='http://www.w3.org/2001/XMLSchema' xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' " +
    "xmlns:ns='urn:xtk:session' xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/'><SOAP-ENV:Body><GetOption xmlns='urn:xtk:session' SOAP-ENV:encodingStyle='http://schemas.xmlsoap.org/soap/encoding/'>" +
    `<__sessiontoken xsi:type='xsd:string'>${INLINE}</__sessiontoken><name xsi:type='xsd:string'>XtkDatabaseId</name></GetOption></SOAP-ENV:Body></SOAP-ENV:Envelope>`)
  await check(t, s, await post(s, body, { 'content-type': 'text/xml; charset=utf-8', soapaction: 'xtk:session#GetOption' }), body, new RegExp(DATABASE_ID))
})

t.test('SOAP 1.2: application/soap+xml with action=, no SOAPAction header', async t => {
  const s = await stack(t)
  const body = Buffer.from('<?xml version="1.0" encoding="utf-8"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:m="urn:nms:rtEvent"><env:Body>' +
    `<m:PushEvent><m:sessiontoken>${INLINE}</m:sessiontoken><m:domEvent><rtEvent type="soap12" email="bob@example.com"/></m:domEvent></m:PushEvent></env:Body></env:Envelope>`)
  const contentType = 'application/soap+xml; charset=utf-8; action="nms:rtEvent#PushEvent"'
  await check(t, s, await post(s, body, { 'content-type': contentType }), body)
  t.equal(s.campaign.requests.at(-1)?.headers['content-type'], contentType, 'the content type (with its action) is forwarded verbatim')
  t.equal(s.campaign.requests.at(-1)?.headers.soapaction, undefined, 'no SOAPAction is invented')
})

t.test('ISO-8859-1 declaration and Latin-1 bytes in the payload', async t => {
  const s = await stack(t)
  const body = Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?>' + soapuiPushEvent(INLINE).replace('origin="soapui"', 'city="Zürich" name="Renée Façade"'), 'latin1')
  t.ok(body.includes(Buffer.from([0xfc])), 'the body holds a Latin-1 ü byte (not UTF-8)')
  await check(t, s, await post(s, body, { 'content-type': 'text/xml; charset=ISO-8859-1', soapaction: 'nms:rtEvent#PushEvent' }), body)
})

t.test('UTF-8 byte order mark, comments and whitespace before the envelope', async t => {
  const s = await stack(t)
  const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<!-- generated by a legacy ESB -->\n\n   ${soapuiPushEvent(INLINE)}`)])
  await check(t, s, await post(s, body, { 'content-type': 'text/xml; charset=utf-8', soapaction: 'nms:rtEvent#PushEvent' }), body)
})

t.test('CRLF line endings', async t => {
  const s = await stack(t)
  const body = Buffer.from(`<?xml version="1.0" encoding="utf-8"?>\r\n${soapuiPushEvent(INLINE, '\r\n')}\r\n`)
  await check(t, s, await post(s, body, { 'content-type': 'text/xml; charset=utf-8', soapaction: 'nms:rtEvent#PushEvent' }), body)
})

t.test('Transfer-Encoding: chunked', async t => {
  const s = await stack(t)
  const body = Buffer.from(soapuiPushEvent(INLINE))
  const response = await new Promise<HttpResult>((resolve, reject) => {
    const req = request(s.soapRouter, { method: 'POST', agent: false, headers: { 'content-type': 'text/xml', soapaction: 'nms:rtEvent#PushEvent' } }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { const b = Buffer.concat(chunks); resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString(), complete: true }) })
    })
    req.on('error', reject)
    for (let i = 0; i < body.length; i += 100) req.write(body.subarray(i, i + 100))
    req.end()
  })
  t.equal(s.campaign.requests.at(-1)?.headers['transfer-encoding'], undefined, 'Campaign gets a Content-Length instead of chunks')
  await check(t, s, response, body)
})

t.test('Expect: 100-continue (Java and .NET clients)', async t => {
  const s = await stack(t)
  const body = Buffer.from(soapuiPushEvent(INLINE))
  let continued = false
  const response = await new Promise<HttpResult>((resolve, reject) => {
    const req = request(s.soapRouter, { method: 'POST', agent: false, headers: { 'content-type': 'text/xml', soapaction: 'nms:rtEvent#PushEvent', expect: '100-continue', 'content-length': String(body.length) } }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { const b = Buffer.concat(chunks); resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString(), complete: true }) })
    })
    req.on('continue', () => { continued = true; req.end(body) })
    req.on('error', reject)
  })
  t.ok(continued, 'the proxy answered 100 Continue before the body was sent')
  t.equal(s.campaign.requests.at(-1)?.headers.expect, undefined, 'Expect is not forwarded (hop-by-hop)')
  await check(t, s, response, body)
})

t.test('keep-alive: 50 calls on one connection', async t => {
  const s = await stack(t)
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => { agent.destroy() })
  const ports = new Set<number>()
  const body = Buffer.from(soapuiPushEvent(INLINE))
  for (let i = 0; i < 50; i++) {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(s.soapRouter, { method: 'POST', agent, headers: { 'content-type': 'text/xml', soapaction: 'nms:rtEvent#PushEvent', 'content-length': String(body.length) } }, res => {
        ports.add(res.socket.localPort as number)
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      })
      req.on('error', reject)
      req.end(body)
    })
    t.equal(status, 200, `call ${i + 1}`)
  }
  t.equal(ports.size, 1, 'all on one client connection')
  t.equal(s.campaign.requests.filter(r => r.soapMethod === 'nms:rtEvent#PushEvent').length, 50, 'all reached Campaign')
})

t.test('pipelined requests are answered in order', async t => {
  const s = await stack(t)
  const { port } = new URL(s.server.proxyUrl)
  const bodies = ['first', 'second', 'third'].map(origin => Buffer.from(soapuiPushEvent(INLINE).replace('origin="soapui"', `origin="${origin}"`)))
  const socket = connect(Number(port), '127.0.0.1')
  await once(socket, 'connect')
  socket.write(Buffer.concat(bodies.map((body, i) => Buffer.concat([
    Buffer.from(`POST /nl/jsp/soaprouter.jsp HTTP/1.1\r\nHost: proxy\r\nContent-Type: text/xml\r\nSOAPAction: nms:rtEvent#PushEvent\r\nContent-Length: ${body.length}\r\n${i === 2 ? 'Connection: close\r\n' : ''}\r\n`),
    body,
  ]))))
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  await once(socket, 'close')
  const raw = Buffer.concat(chunks).toString()
  const statuses = raw.match(/HTTP\/1\.1 \d{3}/g)
  t.same(statuses, ['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 200'], 'three answers on the one connection')
  const ids = [...raw.matchAll(/<plId xsi:type='xsd:long'>(\d+)<\/plId>/g)].map(m => Number(m[1]))
  t.same(ids, [...ids].sort((a, b) => a - b), 'in the order sent (event ids increase)')
  const origins = s.campaign.requests.filter(r => r.soapMethod === 'nms:rtEvent#PushEvent').map(r => /origin="(\w+)"/.exec(r.body.toString())?.[1])
  t.same(origins, ['first', 'second', 'third'], 'Campaign received them in order')
})
