// Fault injection, Campaign side. Down (502) and too slow (504) are in
// test/proxy/forwarding.test.ts, a cut while the proxy reads a small answer
// and a revoked token in test/proxy/token-replay.test.ts.
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { soapPost } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'
import { soapEnvelope } from '../fixtures/soap.js'

const INTEGRATION = '  - { name: website, networks: [127.0.0.1/32], technicalAccount: marketing }'
const CALL = soapEnvelope({ schema: 'xtk:session', method: 'GetOption', params: [['name', 'XtkDatabaseId']] })

t.test('Campaign errors are its answers: passed on unchanged', async t => {
  const s = await startProxyStack(t, { integrations: INTEGRATION })
  s.campaign.faults.inject({ kind: 'status', status: 503, body: 'maintenance', headers: { 'retry-after': '120' } })
  const response = await soapPost(s.soapRouter, CALL, {}, 'xtk:session#GetOption')
  t.equal(response.status, 503, "Campaign's status")
  t.equal(response.text, 'maintenance', "Campaign's body")
  t.equal(response.headers['retry-after'], '120', "Campaign's headers")
  t.equal(s.campaign.requests.length, 1, 'not retried by the proxy')
})

t.test('Campaign cuts a large answer midway: the client sees the cut, the proxy keeps serving', async t => {
  let calls = 0
  const upstream = createServer((req, res) => {
    calls++
    req.resume()
    req.on('end', () => {
      if (calls === 1) {
        res.writeHead(200, { 'content-type': 'text/xml', 'content-length': '300000' })
        res.write(Buffer.alloc(150_000, 'a'))
        setImmediate(() => { res.socket?.destroy() })
      } else {
        res.writeHead(200, { 'content-type': 'text/xml' }).end('<ok/>')
      }
    })
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  t.teardown(() => { upstream.closeAllConnections(); upstream.close() })
  const s = await startProxyStack(t, { integrations: INTEGRATION, campaignUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` })
  const cut = await soapPost(s.soapRouter, CALL, {}, 'xtk:session#GetOption')
  t.equal(cut.status, 200, "the client got Campaign's status")
  t.equal(cut.complete, false, 'and a body cut short: the connection closed before Content-Length was reached')
  t.ok(cut.body.length < 300_000, `only part of the body arrived (${cut.body.length} bytes)`)
  const next = await soapPost(s.soapRouter, CALL, {}, 'xtk:session#GetOption')
  t.equal(next.text, '<ok/>', 'the next call works')
})
