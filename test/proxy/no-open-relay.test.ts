// Never an open relay: whatever the request line, Host header or encoded
// path says, the only upstream is the configured Campaign, and the path
// cannot climb out of it.
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { rawExchange } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'

t.test('absolute-form URIs, foreign Host headers, CONNECT and dot segments never reach another host', async t => {
  let elsewhere = 0
  const other = createServer((_req, res) => { elsewhere++; res.end('other host') })
  other.listen(0, '127.0.0.1')
  await once(other, 'listening')
  t.teardown(() => { other.close() })
  const otherHost = `127.0.0.1:${(other.address() as AddressInfo).port}`
  const s = await startProxyStack(t, { integrations: '  - { name: website, networks: [127.0.0.1/32], technicalAccount: marketing }' })
  const exchange = (head: string): Promise<string> => rawExchange(s.server.proxyUrl, `${head}\r\nConnection: close`)

  const absolute = await exchange(`GET http://${otherHost}/r/test HTTP/1.1\r\nHost: ${otherHost}`)
  t.match(absolute, /^HTTP\/1\.1 400/, 'an absolute-form request line is refused')
  t.equal(s.campaign.requests.length, 0, 'and reaches nothing')
  const foreignHost = await exchange(`GET /r/test HTTP/1.1\r\nHost: ${otherHost}`)
  t.match(foreignHost, /^HTTP\/1\.1 200/, 'a foreign Host header is answered')
  t.equal(s.campaign.requests.length, 1, 'by the configured Campaign')
  t.notMatch(foreignHost.split('\r\n\r\n')[0], /keep-alive|^connection: keep-alive/im, "Campaign's hop-by-hop headers are not passed on (the client asked to close)")
  const connectMethod = await exchange(`CONNECT ${otherHost} HTTP/1.1\r\nHost: ${otherHost}`)
  t.ok(connectMethod === '' || /^HTTP\/1\.1 4\d\d/.test(connectMethod), `CONNECT is refused: the connection is closed unanswered (${JSON.stringify(connectMethod.split('\r\n')[0])})`)
  for (const path of ['/nl/%2e%2e/%2e%2e/etc/passwd', '/nl/..%2f..%2fetc/passwd', '/%2e%2e%5c%2e%2e%5cetc']) {
    const before = s.campaign.requests.length
    const answer = await exchange(`GET ${path} HTTP/1.1\r\nHost: proxy`)
    const reached = s.campaign.requests.slice(before).map(r => r.url)
    t.ok(reached.every(p => !p.includes('..') && !/%2e%2e/i.test(p)), `${path}: no dot segment reaches Campaign (${answer.split('\r\n')[0] ?? ''}, forwarded: ${JSON.stringify(reached)})`)
  }
  t.equal(elsewhere, 0, 'the other host never received anything')
})
