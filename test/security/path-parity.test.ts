// Path parity with Campaign's servlet container: every spelling of the SOAP
// router (or the WSDL) that Tomcat would route to it, but that is not
// written canonically, is refused before anything is forwarded, so the
// bearer can never travel with a body the proxy did not rewrite.
import { connect } from 'node:net'
import t from 'tap'
import { hashPassword } from '../../src/auth/passwords.js'
import { canonicalPathOf } from '../../src/proxy/target.js'
import { PROXY_FAULTS } from '../../src/soap/faults.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'
import { soapEnvelope } from '../fixtures/soap.js'

const PASSWORD = 'crm-secret-pw'
const ROUTER_SPELLINGS = [
  '/nl/jsp/soaprouter.jsp;jsessionid=1',
  '/nl/jsp/soaprouter.jsp;',
  '/nl/jsp;x=1/soaprouter.jsp',
  '/nl/jsp/%73oaprouter.jsp',
  '/nl/jsp/soaprouter%2Ejsp',
  '/nl/jsp/soaprouter.js%70',
  '/nl/./jsp/soaprouter.jsp',
  '/nl/%2e/jsp/soaprouter.jsp',
  '/nl/%2E/jsp/soaprouter.jsp',
  '/nl/x/../jsp/soaprouter.jsp',
  '/nl/x/%2e%2e/jsp/soaprouter.jsp',
  '/nl\\jsp/soaprouter.jsp',
  '/nl%5cjsp/soaprouter.jsp',
  '/nl%2fjsp/soaprouter.jsp',
  '/nl//jsp/soaprouter.jsp',
  '//nl/jsp/soaprouter.jsp',
  '/nl/jsp/soaprouter.jsp#f',
  '/nl/jsp/soaprouter.jsp/',
  '/nl/jsp/soaprouter.jsp/x',
  '/nl/jsp/soaprouter.jsp%00',
  '/nl/jsp/soaprouter.jsp%zz',
]

/** One raw HTTP/1.1 exchange: the target is written as it is, whatever a client library would make of it. */
function rawPost (url: string, target: string, body: string, extra = ''): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = connect(Number(port), hostname, () => {
      socket.write(`POST ${target} HTTP/1.1\r\nHost: proxy\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${extra}\r\n${body}`)
    })
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
  })
}

t.test('canonicalPathOf: the canonical path, or undefined', async t => {
  t.equal(canonicalPathOf('/nl/jsp/soaprouter.jsp'), '/nl/jsp/soaprouter.jsp')
  t.equal(canonicalPathOf('/nl/jsp/schemawsdl.jsp?schema=nms:rtEvent;x=1'), '/nl/jsp/schemawsdl.jsp', 'a query is not the path: ";" there is data')
  t.equal(canonicalPathOf('/r/test'), '/r/test')
  t.equal(canonicalPathOf('/.well-known/x'), '/.well-known/x', 'a name starting with a dot is no dot segment')
  t.equal(canonicalPathOf('/a/b%20c'), '/a/b%20c', 'an escaped reserved or space character is canonical')
  t.equal(canonicalPathOf('/'), '/')
  for (const target of [...ROUTER_SPELLINGS, '*', 'http://elsewhere/', '/a/..', '/a/.', '/x%41', '/x%7e', '/x%5F', '/x%2D', '/x%39', '/caf\u00e9', '/a b', '/a?b#c']) {
    t.equal(canonicalPathOf(target), undefined, `${JSON.stringify(target)} is not canonical`)
  }
})

t.test('no spelling of the SOAP router gets the bearer with an unrewritten body', async t => {
  const hash = await hashPassword(PASSWORD, { N: 1024 })
  const s = await startProxyStack(t, {
    integrations: `  - { name: website, networks: [127.0.0.1/32], technicalAccount: marketing }\n  - { name: crm, login: crm_operator, passwordHash: '${hash}', technicalAccount: events }`,
  })
  const inline = soapEnvelope({ schema: 'xtk:session', method: 'GetOption', sessionToken: `crm_operator/${PASSWORD}`, params: [['name', 'XtkDatabaseId']] })
  const logon = soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', 'crm_operator'], ['password', PASSWORD], ['parameters', { xml: '' }]] })
  const doctype = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>${soapEnvelope({ schema: 'xtk:session', method: 'GetOption', params: [['name', 'XtkDatabaseId']] })}`
  for (const target of ROUTER_SPELLINGS) {
    for (const [what, body] of [['inline login/password', inline], ['a Logon with its password', logon], ['a DOCTYPE', doctype]] as const) {
      const before = s.campaign.requests.length
      const answer = await rawPost(s.server.proxyUrl, target, body)
      const reached = s.campaign.requests.slice(before)
      t.same(reached.map(r => r.url), [], `${target} with ${what}: nothing forwarded`)
      t.match(answer, /^HTTP\/1\.1 400 /, `${target} with ${what}: refused with 400`)
      // Fastify itself refuses an escape that is not one (`%zz`) as a malformed request.
      t.match(answer, target.endsWith('%zz') ? PROXY_FAULTS.badRequest.message : PROXY_FAULTS.badPath.message, `${target}: a SOAP fault saying why`)
    }
  }
  // The canonical spelling works as before: the control of the experiment.
  const before = s.campaign.requests.length
  const served = await rawPost(s.server.proxyUrl, '/nl/jsp/soaprouter.jsp', inline)
  t.match(served, /^HTTP\/1\.1 200 /, 'the canonical path is served')
  const forwarded = s.campaign.requests.slice(before)
  t.equal(forwarded.length, 1, 'and forwarded once')
  t.notOk(forwarded[0]?.body.toString().includes(PASSWORD), 'with the password emptied')
  t.match(String(forwarded[0]?.headers.authorization), /^Bearer /, 'and the bearer')
  const doctypeCanonical = await rawPost(s.server.proxyUrl, '/nl/jsp/soaprouter.jsp', doctype)
  t.match(doctypeCanonical, /^HTTP\/1\.1 400 /, 'a DOCTYPE on the canonical path is refused too')
  t.equal(s.campaign.requests.length, before + 1, 'and not forwarded')
})
