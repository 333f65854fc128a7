// The WSDL's endpoint names the proxy: listen.publicUrl when configured,
// else as the client reached it (Host, or X-Forwarded-Host / -Proto from a
// trusted proxy), else a relative endpoint; never an unusable Host, and
// never Campaign's own origin.
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { wsdlThroughProxy } from '../../src/proxy/inspect.js'
import { rawBody, rawExchange, send } from '../fixtures/http.js'
import { startProxyStack, type ProxyStack } from '../fixtures/proxy-stack.js'

t.test('endpoint rewriting rules', async t => {
  const wsdl = Buffer.from('<soap:address location="https://acme.campaign.adobe.com/nl/jsp/soaprouter.jsp"/>')
  t.equal(wsdlThroughProxy(wsdl, 'acme.campaign.adobe.com', 'http://proxy:8080').toString(), '<soap:address location="http://proxy:8080/nl/jsp/soaprouter.jsp"/>', 'Campaign\'s router becomes the proxy\'s')
  t.equal(wsdlThroughProxy(wsdl, 'acme.campaign.adobe.com', undefined).toString(), '<soap:address location="/nl/jsp/soaprouter.jsp"/>', 'no known proxy origin: a relative endpoint, not Campaign\'s')
  const plain = Buffer.from('<a location="http://acme.campaign.adobe.com/nl/jsp/soaprouter.jsp"/><b location="https://acme.campaign.adobe.com/nl/jsp/soaprouter.jsp"/>')
  t.equal(wsdlThroughProxy(plain, 'acme.campaign.adobe.com', 'https://p').toString(), '<a location="https://p/nl/jsp/soaprouter.jsp"/><b location="https://p/nl/jsp/soaprouter.jsp"/>', 'Campaign\'s host under http is rewritten too, every occurrence')
  t.equal(wsdlThroughProxy(wsdl, 'other.example', 'http://proxy:8080'), wsdl, 'another endpoint: unchanged')
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
  t.equal(rawBody(odd), '<soap:address location="/nl/jsp/soaprouter.jsp"/>', 'a Host that is not a host name is never written into the WSDL, nor is Campaign\'s: a relative endpoint')
  const large = await send(`${s.server.proxyUrl}/nl/jsp/schemawsdl.jsp?schema=big`)
  t.equal(large.body.length, Buffer.byteLength(big), 'a WSDL too large to rewrite is streamed unchanged')
})

/** Anonymous WSDL GETs through the proxy to the Campaign simulator (served with wsdl.technicalAccount). */
async function simulatorStack (t: Test, publicUrl?: string): Promise<{ s: ProxyStack, campaignHost: string }> {
  const s = await startProxyStack(t, {
    integrations: '  - { name: esb, networks: [10.0.0.0/8], technicalAccount: events }',
    extra: 'wsdl: { technicalAccount: marketing }\ntrustedProxies: [127.0.0.2/32]',
    ...(publicUrl === undefined ? {} : { publicUrl }),
  })
  return { s, campaignHost: new URL(s.campaign.url).host }
}

const WSDL_PATH = '/nl/jsp/schemawsdl.jsp?schema=nms:rtEvent'
/** The endpoint the WSDL names. */
const location = (wsdl: string): string | undefined => /<soap:address location="([^"]*)"/.exec(wsdl)?.[1]

t.test('a Host the proxy cannot use: the WSDL names no origin at all, and never Campaign\'s', async t => {
  const { s, campaignHost } = await simulatorStack(t)
  const requests = [
    ['an empty Host', `GET ${WSDL_PATH} HTTP/1.1\r\nHost: \r\nConnection: close`],
    ['a Host with a quote', `GET ${WSDL_PATH} HTTP/1.1\r\nHost: a"b\r\nConnection: close`],
    ['a Host with a path', `GET ${WSDL_PATH} HTTP/1.1\r\nHost: evil.example/x\r\nConnection: close`],
    ['a Host with a user', `GET ${WSDL_PATH} HTTP/1.1\r\nHost: user@evil.example\r\nConnection: close`],
    ['no Host at all (HTTP/1.0)', `GET ${WSDL_PATH} HTTP/1.0`],
  ] as const
  for (const [what, head] of requests) {
    const answer = await rawExchange(s.server.proxyUrl, head)
    t.match(answer, /^HTTP\/1\.1 200 /, `${what}: the WSDL is served`)
    t.equal(location(rawBody(answer)), '/nl/jsp/soaprouter.jsp', `${what}: its endpoint is relative`)
    t.notOk(answer.includes(campaignHost), `${what}: Campaign's host and port (${campaignHost}) appear nowhere in the answer, headers included`)
  }
  const named = await send(`${s.server.proxyUrl}${WSDL_PATH}`, { headers: { host: 'legacy-proxy.internal:8080' } })
  t.equal(location(named.text), 'http://legacy-proxy.internal:8080/nl/jsp/soaprouter.jsp', 'a usable Host is still the endpoint')
})

t.test('listen.publicUrl configured: always the endpoint, whatever the Host or a trusted X-Forwarded-Host says', async t => {
  const { s, campaignHost } = await simulatorStack(t, 'https://Campaign-Proxy.acme.example/')
  const endpoint = 'https://campaign-proxy.acme.example/nl/jsp/soaprouter.jsp'
  const answers = [
    ['a usable Host', await send(`${s.server.proxyUrl}${WSDL_PATH}`, { headers: { host: 'legacy-proxy.internal:8080' } })],
    ['a trusted proxy\'s X-Forwarded-Host', await send(`${s.server.proxyUrl}${WSDL_PATH}`, { localAddress: '127.0.0.2', headers: { host: 'internal:8080', 'x-forwarded-host': 'other.acme.example', 'x-forwarded-proto': 'http' } })],
  ] as const
  for (const [what, answer] of answers) {
    t.equal(location(answer.text), endpoint, `${what}: the configured URL (as its origin) is the endpoint`)
    t.notOk(answer.text.includes(campaignHost), `${what}: Campaign's origin appears nowhere`)
  }
  const bare = await rawExchange(s.server.proxyUrl, `GET ${WSDL_PATH} HTTP/1.0`)
  t.equal(location(rawBody(bare)), endpoint, 'no Host at all: the configured URL')
  t.notOk(bare.includes(campaignHost), 'and Campaign\'s origin appears nowhere')
})
