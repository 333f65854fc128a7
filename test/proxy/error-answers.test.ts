// Every error on the request path is answered as a Campaign-shaped SOAP
// fault with the request id: an unexpected one as a generic 500 without
// internal text (never Fastify's JSON), Fastify's own refusals of a
// malformed request as client errors.
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { parseConfig } from '../../src/config/load.js'
import { Inventory } from '../../src/observability/inventory.js'
import { createLogger } from '../../src/observability/logger.js'
import { ProxyMetrics } from '../../src/observability/metrics.js'
import { PROXY_FAULTS } from '../../src/soap/faults.js'
import { rawBody, rawExchange, send } from '../fixtures/http.js'

t.test('an unexpected error answers a SOAP fault with the request id, and Fastify\'s refusals are client faults', async t => {
  const campaign = createServer((_req, res) => { res.end('<redir status="OK"/>') }).listen(0, '127.0.0.1')
  await once(campaign, 'listening')
  t.teardown(() => { campaign.close() })
  const config = parseConfig(`
campaign: { url: 'http://127.0.0.1:${(campaign.address() as AddressInfo).port}' }
technicalAccounts:
  marketing: { clientId: c, clientSecret: s, scopes: [AdobeID] }
integrations:
  - { name: website, networks: [127.0.0.1/32], technicalAccount: marketing }
`, { source: 'test', env: {} })
  const logs: string[] = []
  const logger = createLogger('info', new Writable({ write (chunk: Buffer, _enc, done) { logs.push(chunk.toString()); done() } }))
  // A token source failing in a way nothing on the request path expects.
  const tokens = { get: async () => { throw new TypeError('internal detail: cannot read properties of undefined') }, invalidate: () => false }
  const app = await buildApp({ config, tokens, logger, metrics: new ProxyMetrics({ tokens: { status: () => [] }, defaultMetrics: false }), inventory: new Inventory(config.integrations), control: {} })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

  const failed = await send(`${url}/r/test`, { headers: { 'x-request-id': 'req-42' } })
  t.equal(failed.status, 500, 'HTTP 500')
  t.match(failed.headers['content-type'], /^text\/xml/, 'a SOAP answer, not JSON')
  t.match(failed.text, PROXY_FAULTS.internal.message, 'the generic internal fault')
  t.match(failed.text, 'request id req-42', 'naming the request id')
  t.notMatch(failed.text, /internal detail|TypeError|undefined/, 'no internal text reaches the client')
  t.ok(logs.some(line => line.includes('"level":50') && line.includes('internal detail') && line.includes('req-42')), 'the error itself is logged, with the request id')

  const badMediaType = await send(`${url}/r/test`, { method: 'POST', headers: { 'content-type': 'not a media type' }, body: 'x' })
  t.same([badMediaType.status, badMediaType.text.includes(PROXY_FAULTS.invalidMediaType.message)], [415, true], 'an invalid Content-Type: 415 with its fault')
  const badUrl = await rawExchange(url, 'GET /nl/%zz HTTP/1.1\r\nHost: proxy\r\nConnection: close')
  t.match(badUrl, /^HTTP\/1\.1 400/, 'a malformed percent-encoding: 400')
  t.match(rawBody(badUrl), PROXY_FAULTS.badRequest.message, 'with the malformed-request fault')
})
