// Acceptance: a 200 MB body is forwarded intact (hash compared upstream)
// while the proxy's heap stays bounded: the proxy runs in a child process
// that samples its own process.memoryUsage().
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { createServer, request } from 'node:http'
import t from 'tap'
import { ImsSimulator } from '../../src/sim/ims.js'
import { startProxyProcess } from '../fixtures/proxy-process.js'

const BODY_BYTES = 200 * 1024 * 1024
const CHUNK = Buffer.alloc(64 * 1024)
for (let i = 0; i < CHUNK.length; i++) CHUNK[i] = 0x61 + (i % 26)
/** Generous: a streaming proxy's heap does not depend on the body size; the precise target is a benchmark. */
const HEAP_GROWTH_LIMIT = 48 * 1024 * 1024

t.test('a 200 MB body streams through with a bounded heap', async t => {
  const ims = await ImsSimulator.start({ clients: [{ clientId: 'bulk-client', secrets: ['bulk-secret'], scopes: ['AdobeID'] }] })
  t.teardown(() => ims.close())
  const received = { bytes: 0, sha256: '', authorization: '', contentLength: '' }
  const upstream = createServer((req, res) => {
    const hash = createHash('sha256')
    req.on('data', (chunk: Buffer) => { received.bytes += chunk.length; hash.update(chunk) })
    req.on('end', () => {
      received.sha256 = hash.digest('hex')
      received.authorization = req.headers.authorization ?? ''
      received.contentLength = req.headers['content-length'] ?? ''
      res.writeHead(200, { 'content-type': 'text/xml' }).end('<ok/>')
    })
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  t.teardown(() => { upstream.close() })

  const ready = await startProxyProcess(t, `
listen: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
campaign: { url: 'http://127.0.0.1:${(upstream.address() as { port: number }).port}' }
ims: { tokenUrl: '${ims.tokenUrl}' }
technicalAccounts:
  bulk: { clientId: bulk-client, clientSecret: bulk-secret, scopes: [AdobeID] }
integrations:
  - { name: bulk-loader, networks: [127.0.0.1/32], technicalAccount: bulk }
`)

  const head = Buffer.from('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:xtk:session">' +
    '<soapenv:Body><urn:Write><urn:sessiontoken>etl/etl-password</urn:sessiontoken><urn:domDoc><data>')
  const tail = Buffer.from('</data></urn:domDoc></urn:Write></soapenv:Body></soapenv:Envelope>')
  const expectedHead = Buffer.from(head.toString().replace('etl/etl-password', ''))
  const expected = createHash('sha256').update(expectedHead)
  const total = head.length + BODY_BYTES + tail.length

  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${ready.proxyUrl}/nl/jsp/soaprouter.jsp`, { method: 'POST', headers: { 'content-type': 'text/xml', 'content-length': total } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.write(head)
    let sent = 0
    const pump = (): void => {
      while (sent < BODY_BYTES) {
        sent += CHUNK.length
        expected.update(CHUNK)
        if (!req.write(CHUNK)) { req.once('drain', pump); return }
      }
      expected.update(tail)
      req.end(tail)
    }
    pump()
  })
  const stats = await ready.stats()

  t.equal(status, 200, 'the upstream answer reached the client')
  t.equal(received.bytes, expectedHead.length + BODY_BYTES + tail.length, 'every byte arrived, less the emptied token')
  t.equal(received.contentLength, String(received.bytes), 'with an exact Content-Length')
  t.equal(received.sha256, expected.digest('hex'), 'the body arrived intact (SHA-256 compared upstream)')
  t.match(received.authorization, /^Bearer ey/, 'with the bearer token')
  const heapGrowth = stats.peak.heapUsed - stats.baseline.heapUsed
  t.ok(heapGrowth < HEAP_GROWTH_LIMIT, `heap growth ${(heapGrowth / 1048576).toFixed(1)} MiB stays under ${HEAP_GROWTH_LIMIT / 1048576} MiB for a 200 MiB body`)
  t.comment(`proxy peak RSS growth: ${((stats.peak.rss - stats.baseline.rss) / 1048576).toFixed(1)} MiB`)
})
