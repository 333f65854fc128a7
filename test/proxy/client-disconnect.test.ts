// A client that goes away in the middle of its upload: nothing is forwarded
// as if it were complete, the proxy keeps serving.
import { connect } from 'node:net'
import t from 'tap'
import { soapPost } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'
import { soapEnvelope } from '../fixtures/soap.js'

const getOption = soapEnvelope({ schema: 'xtk:session', method: 'GetOption', params: [['name', 'XtkDatabaseId']] })

t.test('half a small body, then the connection drops', async t => {
  const s = await startProxyStack(t, { integrations: '  - { name: website, networks: [127.0.0.1/32], technicalAccount: marketing }' })
  const { port } = new URL(s.server.proxyUrl)
  const half = getOption.slice(0, 200)
  await new Promise<void>((resolve) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(`POST /nl/jsp/soaprouter.jsp HTTP/1.1\r\nHost: proxy\r\nContent-Type: text/xml\r\nContent-Length: ${getOption.length}\r\n\r\n${half}`)
      setImmediate(() => { socket.destroy(); resolve() })
    })
  })
  let logged = false
  for (let i = 0; i < 200 && !logged; i++) {
    logged = s.logs.some(line => line.includes('"msg":"request"') && line.includes('"path":"/nl/jsp/soaprouter.jsp"'))
    if (!logged) await new Promise(resolve => setTimeout(resolve, 10))
  }
  t.ok(logged, 'the aborted request is logged')
  t.ok(s.logs.some(line => line.includes('"msg":"request"') && line.includes('"status":499')), 'with status 499 (client closed the request)')
  t.equal(s.campaign.requests.length, 0, 'nothing was forwarded')
  const next = await soapPost(s.soapRouter, getOption, {}, 'xtk:session#GetOption')
  t.equal(next.status, 200, 'the proxy keeps serving')
  t.equal(s.campaign.requests.length, 1, 'and only the complete request reached Campaign')
})
