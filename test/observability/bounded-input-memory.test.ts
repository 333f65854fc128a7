// 300 requests whose SOAP method namespace is 1 MB (refused: the scanner
// bounds names) and 300 Logons with long unknown logins, under
// unknownCallers: reject: after a collection the proxy holds nothing of
// them. The proxy runs in its own process, so its memory is its own.
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { ImsSimulator } from '../../src/sim/ims.js'
import { send } from '../fixtures/http.js'
import { CONTAINER_MALLOC_ENV, startProxyProcess } from '../fixtures/proxy-process.js'

const HELD_LIMIT = 16 * 1024 * 1024
/** The requirement: RSS growth after the 300 requests, with the allocator settings the container image ships. */
const RSS_GROWTH_LIMIT = 64 * 1024 * 1024
const envelope = (method: string, urn: string, params: string): string =>
  `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:${method} xmlns:m="${urn}">${params}</m:${method}></s:Body></s:Envelope>`

t.test('300 megabyte namespaces and 300 long logins: nothing of them is kept', async t => {
  const ims = await ImsSimulator.start({ clients: [{ clientId: 'c', secrets: ['s'], scopes: ['AdobeID'] }] })
  t.teardown(() => ims.close())
  const upstream = createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'text/xml' }); res.end('<ok/>') }) })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  t.teardown(() => { upstream.close() })
  const ready = await startProxyProcess(t, `
listen: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
campaign: { url: 'http://127.0.0.1:${(upstream.address() as AddressInfo).port}' }
ims: { tokenUrl: '${ims.tokenUrl}' }
technicalAccounts:
  marketing: { clientId: c, clientSecret: s, scopes: [AdobeID] }
unknownCallers: reject
integrations:
  - { name: website, networks: [127.0.0.2/32], technicalAccount: marketing }
`, ['--expose-gc'], CONTAINER_MALLOC_ENV)
  const router = `${ready.proxyUrl}/nl/jsp/soaprouter.jsp`
  const filler = 'a'.repeat(1_000_000)
  for (let i = 0; i < 300; i++) {
    const call = await send(router, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: envelope('PushEvent', `urn:${i}-${filler}`, '<sessiontoken/>'), localAddress: '127.0.0.2' })
    const logon = await send(router, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: envelope('Logon', 'urn:xtk:session', `<sessiontoken/><strLogin>${i}-${'b'.repeat(4000)}</strLogin><strPassword>x</strPassword>`) })
    if (call.status !== 400 || logon.status !== 500) {
      t.fail(`request ${i}: ${call.status} / ${logon.status}`)
      return
    }
  }
  const stats = await ready.stats()
  const held = stats.now.heapUsed - stats.baseline.heapUsed
  t.ok(held < HELD_LIMIT, `after a collection the proxy holds ${(held / 1048576).toFixed(1)} MiB more heap than before them (limit ${HELD_LIMIT / 1048576} MiB): nothing of them is kept`)
  const grown = stats.now.rss - stats.baseline.rss
  t.ok(grown < RSS_GROWTH_LIMIT, `RSS ${(grown / 1048576).toFixed(1)} MiB above the start after them (limit ${RSS_GROWTH_LIMIT / 1048576} MiB; peak ${((stats.peak.rss - stats.baseline.rss) / 1048576).toFixed(1)} MiB)`)
})
