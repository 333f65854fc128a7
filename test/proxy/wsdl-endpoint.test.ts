// The WSDL's endpoint names the proxy as the client reached it: Host (or
// X-Forwarded-Host / -Proto from a trusted proxy), never an unusable Host.
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { wsdlThroughProxy } from '../../src/proxy/inspect.js'
import { rawBody, rawExchange, send } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'

t.test('endpoint rewriting rules', async t => {
  const wsdl = Buffer.from('<soap:address location="https://acme.campaign.adobe.com/nl/jsp/soaprouter.jsp"/>')
  t.equal(wsdlThroughProxy(wsdl, 'https://acme.campaign.adobe.com', 'http://proxy:8080').toString(), '<soap:address location="http://proxy:8080/nl/jsp/soaprouter.jsp"/>', 'Campaign\'s router becomes the proxy\'s')
  t.equal(wsdlThroughProxy(wsdl, 'https://acme.campaign.adobe.com', undefined), wsdl, 'no usable client origin: unchanged')
  t.equal(wsdlThroughProxy(wsdl, 'https://other.example', 'http://proxy:8080'), wsdl, 'another endpoint: unchanged')
})

t.test('Host, trusted X-Forwarded-Host/-Proto, and a Host that cannot be written into a URL', async t => {
  const big = `<definitions>${' '.repeat(2 * 1024 * 1024)}</definitions>`
  const upstream = createServer((req, res) => {
    const origin = `http://${req.headers.host ?? ''}`
    if (req.url?.includes('schema=big') === true) res.writeHead(200, { 'content-type': 'text/xml' }).end(big)
    else res.writeHead(200, { 'content-type': 'text/xml' }).end(`<soap:address location="${origin}/nl/jsp/soaprouter.jsp"/>`)
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  t.teardown(() => { upstream.closeAllConnections(); upstream.close() })
  const campaignUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
  const s = await startProxyStack(t, { integrations: '  - { name: esb, networks: [10.0.0.0/8], technicalAccount: events }', campaignUrl, extra: 'trustedProxies: [127.0.0.2/32]' })
  const path = '/nl/jsp/schemawsdl.jsp?schema=nms:rtEvent'
  const plain = await send(`${s.server.proxyUrl}${path}`, { headers: { host: 'legacy-proxy.internal:8080' } })
  t.equal(plain.text, '<soap:address location="http://legacy-proxy.internal:8080/nl/jsp/soaprouter.jsp"/>', 'the Host the client used')
  t.equal(plain.headers['content-length'], String(plain.body.length), 'with a Content-Length for the rewritten body')
  const behind = await send(`${s.server.proxyUrl}${path}`, { localAddress: '127.0.0.2', headers: { host: 'internal:8080', 'x-forwarded-host': 'campaign-proxy.acme.com', 'x-forwarded-proto': 'https' } })
  t.equal(behind.text, '<soap:address location="https://campaign-proxy.acme.com/nl/jsp/soaprouter.jsp"/>', 'behind a trusted load balancer: its host and scheme')
  const untrusted = await send(`${s.server.proxyUrl}${path}`, { headers: { host: 'proxy:1', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' } })
  t.equal(untrusted.text, '<soap:address location="http://proxy:1/nl/jsp/soaprouter.jsp"/>', 'forwarded headers from anyone else are ignored')
  const odd = await rawExchange(s.server.proxyUrl, `GET ${path} HTTP/1.1\r\nHost: a"b\r\nConnection: close`)
  t.match(rawBody(odd), `location="${campaignUrl}/nl/jsp/soaprouter.jsp"`, 'a Host that is not a host name is never written into the WSDL')
  const large = await send(`${s.server.proxyUrl}/nl/jsp/schemawsdl.jsp?schema=big`)
  t.equal(large.body.length, Buffer.byteLength(big), 'a WSDL too large to rewrite is streamed unchanged')
})
