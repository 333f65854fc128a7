// The methods forwarded, with or without a body; TRACE is not routed.
import { once } from 'node:events'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { send } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'

t.test('OPTIONS and DELETE without a body, PUT with one; TRACE refused', async t => {
  const seen: Array<{ method: string, length: string | undefined, body: string }> = []
  const upstream = createServer((req: IncomingMessage, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += String(c) })
    req.on('end', () => { seen.push({ method: String(req.method), length: req.headers['content-length'], body }); res.end('ok') })
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  t.teardown(() => { upstream.close() })
  const s = await startProxyStack(t, { integrations: '  - { name: website, networks: [127.0.0.2/32], technicalAccount: marketing }', campaignUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` })
  for (const method of ['OPTIONS', 'DELETE']) t.equal((await send(`${s.server.proxyUrl}/r/test`, { method })).status, 200, `${method} without a body is forwarded`)
  t.equal((await send(`${s.server.proxyUrl}/upload`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: 'data' })).status, 200, 'PUT with a body too')
  t.same(seen, [{ method: 'OPTIONS', length: undefined, body: '' }, { method: 'DELETE', length: undefined, body: '' }, { method: 'PUT', length: '4', body: 'data' }], 'Campaign got each with its body, and nothing else')
  t.equal((await send(`${s.server.proxyUrl}/r/test`, { method: 'TRACE' })).status, 404, 'TRACE is not forwarded')
  t.equal(seen.length, 3, 'nothing more reached Campaign')
})
