// Input the proxy refuses: each gets its own fault, and nothing reaches Campaign.
import { request } from 'node:http'
import t, { type Test } from 'tap'
import { PROXY_FAULTS } from '../../src/soap/faults.js'
import { soapPost, type HttpResult } from '../fixtures/http.js'
import { startProxyStack, type ProxyStack } from '../fixtures/proxy-stack.js'

const ENVELOPE_OPEN = '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:nms:rtEvent"><soapenv:Body>'
const PUSH = `${ENVELOPE_OPEN}<urn:PushEvent><urn:sessiontoken>mc/x</urn:sessiontoken><urn:domEvent><rtEvent type="t"/></urn:domEvent></urn:PushEvent></soapenv:Body></soapenv:Envelope>`

async function stack (t: Test): Promise<ProxyStack> {
  return await startProxyStack(t, {
    integrations: '  - { name: website, networks: [127.0.0.1/32], technicalAccount: events }',
    extra: 'limits: { maxBodyBytes: 2MiB, replayLimitBytes: 64KiB, headBytes: 16KiB }',
  })
}

function assertFault (t: Test, response: HttpResult, fault: keyof typeof PROXY_FAULTS, s: ProxyStack): void {
  t.equal(response.status, PROXY_FAULTS[fault].status, `answered ${PROXY_FAULTS[fault].status}`)
  t.match(response.text, `<faultstring xsi:type='xsd:string'>${PROXY_FAULTS[fault].message}</faultstring>`, 'with the specific fault')
  t.match(response.headers['content-type'], /^text\/xml/, 'as a SOAP envelope')
  t.equal(s.campaign.requests.filter(r => r.url.startsWith('/nl/jsp/soaprouter.jsp')).length, 0, 'nothing was forwarded to Campaign')
}

t.test('DOCTYPE', async t => {
  const s = await stack(t)
  assertFault(t, await soapPost(s.soapRouter, `<?xml version="1.0"?><!DOCTYPE x [<!ELEMENT x ANY>]>${PUSH}`), 'doctype', s)
})

t.test('billion laughs', async t => {
  const s = await stack(t)
  const entities = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join('')
  const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">${entities}]>${PUSH.replace('type="t"', 'type="&lol9;"')}`
  assertFault(t, await soapPost(s.soapRouter, bomb), 'doctype', s)
})

t.test('oversize body with Content-Length: 413', async t => {
  const s = await stack(t)
  const body = PUSH.replace('<rtEvent type="t"/>', `<rtEvent type="t">${'x'.repeat(3 * 1024 * 1024)}</rtEvent>`)
  assertFault(t, await soapPost(s.soapRouter, body), 'tooLarge', s)
})

t.test('oversize chunked body: 413 once the limit is crossed', async t => {
  const s = await stack(t)
  const response = await new Promise<HttpResult>((resolve, reject) => {
    const req = request(s.soapRouter, { method: 'POST', headers: { 'content-type': 'text/xml', 'transfer-encoding': 'chunked' }, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const body = Buffer.concat(chunks)
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8'), complete: true })
      })
    })
    req.on('error', reject)
    req.write(PUSH.slice(0, PUSH.indexOf('<rtEvent')))
    const filler = Buffer.alloc(256 * 1024, 'x')
    let sent = 0
    const pump = (): void => {
      while (sent < 3 * 1024 * 1024) {
        sent += filler.length
        if (!req.write(filler)) { req.once('drain', pump); return }
      }
      req.end('</urn:domEvent></urn:PushEvent></soapenv:Body></soapenv:Envelope>')
    }
    pump()
  })
  t.equal(response.status, 413, 'answered 413')
  t.match(response.text, PROXY_FAULTS.tooLarge.message, 'with the size fault')
})

t.test('UTF-16: 415', async t => {
  const s = await stack(t)
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`<?xml version="1.0" encoding="UTF-16"?>${PUSH}`, 'utf16le')])
  assertFault(t, await soapPost(s.soapRouter, utf16, { 'content-type': 'text/xml; charset=utf-16' }), 'unsupportedEncoding', s)
})

t.test('not XML', async t => {
  const s = await stack(t)
  assertFault(t, await soapPost(s.soapRouter, 'grant me access'), 'notXml', s)
})

t.test('no method element', async t => {
  const s = await stack(t)
  assertFault(t, await soapPost(s.soapRouter, `${ENVELOPE_OPEN}</soapenv:Body></soapenv:Envelope>`), 'noMethod', s)
})
