// Inbound limits: header size (431), slow clients (408 once the request or
// header timeout passes), idle keep-alive connections closed.
import { once } from 'node:events'
import { connect } from 'node:net'
import t from 'tap'
import { startProxyStack } from '../fixtures/proxy-stack.js'

const INTEGRATION = '  - { name: website, networks: [127.0.0.1/32], technicalAccount: marketing }'

/** Writes `data` on a new connection and collects everything until the server closes it (bounded by the test timeout). */
async function exchange (url: string, data: string): Promise<{ text: string, ms: number }> {
  const { port } = new URL(url)
  const started = Date.now()
  const socket = connect(Number(port), '127.0.0.1')
  await once(socket, 'connect')
  socket.write(data)
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  await once(socket, 'close')
  return { text: Buffer.concat(chunks).toString(), ms: Date.now() - started }
}

t.test('request heads larger than limits.maxHeaderBytes get 431', async t => {
  const s = await startProxyStack(t, { integrations: INTEGRATION, extra: 'limits: { maxHeaderBytes: 4KiB }' })
  const answer = await exchange(s.server.proxyUrl, `GET /r/test HTTP/1.1\r\nHost: p\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`)
  t.match(answer.text, /^HTTP\/1\.1 431/, '431 Request Header Fields Too Large')
  t.equal(s.campaign.requests.length, 0, 'nothing forwarded')
})

t.test('a client that stops sending its headers or body gets 408 after the timeout', async t => {
  const s = await startProxyStack(t, { integrations: INTEGRATION, extra: 'limits: { headersTimeoutSeconds: 1, requestTimeoutSeconds: 2 }' })
  const headers = await exchange(s.server.proxyUrl, 'POST /nl/jsp/soaprouter.jsp HTTP/1.1\r\nHost: p\r\n')
  t.match(headers.text, /^HTTP\/1\.1 408/, `headers never finished: 408 (after ${headers.ms} ms)`)
  t.ok(headers.ms >= 900 && headers.ms < 5000, 'after about the header timeout')
  const body = await exchange(s.server.proxyUrl, 'POST /nl/jsp/soaprouter.jsp HTTP/1.1\r\nHost: p\r\nContent-Type: text/xml\r\nContent-Length: 100\r\n\r\n<a/>')
  t.ok(body.ms >= 1900 && body.ms < 6000, `a body that never finished: the connection ends after about the request timeout (${body.ms} ms)`)
  t.equal(s.campaign.requests.length, 0, 'nothing forwarded')
})

t.test('idle keep-alive connections are closed after limits.keepAliveTimeoutSeconds', async t => {
  const s = await startProxyStack(t, { integrations: INTEGRATION, extra: 'limits: { keepAliveTimeoutSeconds: 1 }' })
  const answer = await exchange(s.server.proxyUrl, 'GET /r/test HTTP/1.1\r\nHost: p\r\n\r\n')
  t.match(answer.text, /^HTTP\/1\.1 200/, 'the request is answered')
  t.ok(answer.ms >= 900 && answer.ms < 5000, `then the idle connection is closed (${answer.ms} ms)`)
})
