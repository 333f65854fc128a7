// The lean forwarder on its own: an answer to inspect is collected whole,
// whether it is empty or arrives in several chunks; a longer one streams.
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Readable } from 'node:stream'
import t from 'tap'
import { Pool } from 'undici'
import { forward, type UpstreamCall } from '../../src/proxy/forwarder.js'

t.test('collected whole: empty, several chunks; streamed: past the limit', async t => {
  const upstream = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/xml' })
    if (req.url === '/empty') return res.end()
    res.write('<a>')
    setTimeout(() => { res.write('<b/>'); setTimeout(() => { res.end(req.url === '/long' ? `${'x'.repeat(2000)}</a>` : '</a>') }, 5) }, 5)
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  const pool = new Pool(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`)
  t.teardown(async () => { await pool.close(); upstream.close() })
  const call = (path: string): UpstreamCall => ({ method: 'GET', path, headers: {}, body: null, collectUpTo: () => 1000, idleTimeoutMs: 10_000, onIdle: () => {} })
  const empty = await forward(pool, call('/empty'))
  t.same([empty.status, Buffer.isBuffer(empty.body), (empty.body as Buffer).length], [200, true, 0], 'an empty answer is an empty buffer')
  const chunked = await forward(pool, call('/chunks'))
  t.equal(Buffer.isBuffer(chunked.body) ? chunked.body.toString() : 'a stream', '<a><b/></a>', 'three chunks, one buffer')
  const long = await forward(pool, call('/long'))
  t.notOk(Buffer.isBuffer(long.body), 'past the limit: a stream')
  let text = ''
  for await (const chunk of long.body as Readable) text += String(chunk)
  t.equal(text, `<a><b/>${'x'.repeat(2000)}</a>`, 'with every byte, the collected ones first')
})
