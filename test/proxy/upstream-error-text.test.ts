// Acceptance (docs/security.md): no text of an upstream's answer reaches a
// log line or an admin answer. IMS echoing the client secret it was sent
// (in error_description, as the error code, in a 10 KB code, as a plain
// text body, in a broken HTTP answer) and Campaign echoing the proxy's
// token (in a broken answer head, in a broken chunked body, in a tag name
// of the Logon's session info): the secret is in no log line, and not in
// /readyz, /metrics or /integrations.
import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { hashPassword } from '../../src/auth/passwords.js'
import { send, soapPost } from '../fixtures/http.js'
import { FakeScheduler } from '../fixtures/ims-harness.js'
import { startProxyStack, type ProxyStack } from '../fixtures/proxy-stack.js'
import { soapEnvelope } from '../fixtures/soap.js'
import { until } from '../fixtures/wait.js'

const SECRETS = ['marketing-secret', 'events-secret']
const CALL = soapEnvelope({ schema: 'xtk:session', method: 'GetOption', params: [['name', 'XtkDatabaseId']] })

/** A tiny HTTP server of the test's own on 127.0.0.1, closed by t.teardown. */
async function upstream (t: Test, handle: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => { handle(req, Buffer.concat(chunks).toString('utf8'), res) })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Every log line, and what the admin port answers to anyone who can reach it. */
async function everythingReadable (s: ProxyStack): Promise<{ text: string, readyz: { accounts: Array<{ account: string, lastError?: string }> } }> {
  const [readyz, metrics, integrations] = await Promise.all(['/readyz', '/metrics', '/integrations'].map(async path => await send(`${s.server.adminUrl}${path}`)))
  t.equal(metrics?.status, 200, '/metrics answers')
  t.equal(integrations?.status, 200, '/integrations answers')
  return {
    text: [...s.logs, readyz?.text, metrics?.text, integrations?.text].join('\n'),
    readyz: JSON.parse(readyz?.text ?? '') as { accounts: Array<{ account: string, lastError?: string }> },
  }
}

/** Writes `head` on the raw socket, bypassing node:http's header checks (a broken server). */
function rawAnswer (res: ServerResponse, head: string): void {
  res.socket?.end(head)
}

const refused = (account: string): string =>
  `IMS refused technical account "${account}" (HTTP 401 invalid_client): check technicalAccounts.${account}.clientId and technicalAccounts.${account}.clientSecret against the Developer Console credential`

const IMS_ECHOES: Array<{ name: string, answer: (secret: string, form: string, res: ServerResponse) => void, lastError: (account: string) => string }> = [
  {
    name: 'a 401 invalid_client whose error_description holds the secret',
    answer: (secret, _form, res) => { res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_client', error_description: `bad client_secret=${secret}` })) },
    lastError: refused,
  },
  {
    name: 'a 400 whose error code is the secret',
    answer: (secret, _form, res) => { res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: secret, error_description: 'x' })) },
    lastError: () => 'IMS answered HTTP 400',
  },
  {
    name: 'a 401 whose error code is 10 KB ending in the secret',
    answer: (secret, _form, res) => { res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `invalid_client${'x'.repeat(10_240)}${secret}` })) },
    lastError: () => 'IMS answered HTTP 401',
  },
  {
    name: 'a gateway answering 400 with the request form as text',
    answer: (_secret, form, res) => { res.writeHead(400, { 'content-type': 'text/plain' }).end(form) },
    lastError: () => 'IMS answered HTTP 400',
  },
  {
    name: 'a broken answer head that echoes the form',
    answer: (_secret, form, res) => { rawAnswer(res, `HTTP/1.1 400 Bad Request\r\nX-Echo: \x01${form}\r\n\r\n`) },
    lastError: () => 'the token request to IMS failed',
  },
]

for (const { name, answer, lastError } of IMS_ECHOES) {
  t.test(`IMS echoing the client secret: ${name}`, async t => {
    const imsUrl = await upstream(t, (_req, form, res) => { answer(new URLSearchParams(form).get('client_secret') ?? '', form, res) })
    const clock = new FakeScheduler()
    clock.now = Date.now()
    const s = await startProxyStack(t, {
      integrations: '  - { name: website, networks: [127.0.0.1/32], technicalAccount: events }',
      imsTokenUrl: `${imsUrl}/ims/token/v3`,
      waitForTokens: false,
      hooks: { now: () => clock.now, timers: clock, random: () => 0.5 },
    })
    await until(() => s.server.tokens.status().every(a => a.consecutiveFailures >= 1), 'both token requests to fail')
    const first = await everythingReadable(s)
    for (const account of ['marketing', 'events']) {
      const shown = first.readyz.accounts.find(a => a.account === account)?.lastError ?? ''
      t.equal(shown, lastError(account), `/readyz says why ${account} has no token, in the proxy's words`)
    }
    t.ok(s.logs.some(line => /IMS (configuration error|token request failed)/.test(line)), 'the failure itself is logged')
    // A request waiting for a token, then failing: the request path's own log lines too.
    const pending = soapPost(s.soapRouter, CALL, {}, 'xtk:session#GetOption')
    await clock.advance(15_000)
    const call = await pending
    t.equal(call.status, 503, 'a request gets 503')
    const { text } = await everythingReadable(s)
    for (const secret of SECRETS) t.notOk([first.text, text, call.text].join('\n').includes(secret), `${secret} is in no log line, no admin answer and not in the 503`)
    t.notOk(text.includes('client_secret='), 'nor is anything IMS echoed')
    t.notOk(text.includes('x'.repeat(64)), 'nor any part of a 10 KB code')
  })
}

t.test('Campaign echoing the token: a broken answer head, a broken chunked body, a tag name in the session info', async t => {
  const PASSWORD = 'logon-pw-1'
  const campaignUrl = await upstream(t, (req, _body, res) => {
    const bearer = String(req.headers.authorization)
    if (req.url === '/r/test') res.writeHead(200, { 'content-type': 'text/xml' }).end('<redir status="OK" build="9372" instance="acme"/>')
    else if (req.url === '/nl/jsp/soaprouter.jsp') res.writeHead(200, { 'content-type': 'text/xml' }).end(`<userInfo><x${bearer.slice(7)}></userInfo>`)
    else if (req.url === '/broken-head') rawAnswer(res, `HTTP/1.1 200 OK\r\nX-Echo: \x01${bearer}\r\n\r\n`)
    else rawAnswer(res, `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\nZZ${bearer}\r\n`)
  })
  const hash = await hashPassword(PASSWORD, { N: 1024 })
  const s = await startProxyStack(t, {
    integrations: `  - { name: website, networks: [127.0.0.1/32], technicalAccount: events }\n  - { name: crm, login: crm_operator, passwordHash: '${hash}', technicalAccount: marketing }`,
    campaignUrl,
  })
  const tokens = await Promise.all(['events', 'marketing'].map(async account => (await s.server.tokens.get(account)).value))

  const head = await send(`${s.server.proxyUrl}/broken-head`)
  t.equal(head.status, 502, 'a broken answer head: 502')
  const body = await send(`${s.server.proxyUrl}/broken-body`)
  t.equal(body.status, 502, 'a chunked body broken from its first chunk (an answer streamed, not inspected): 502')
  const logon = await soapPost(s.soapRouter, soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', 'crm_operator'], ['password', PASSWORD], ['parameters', { xml: '' }]] }), {}, 'xtk:session#Logon')
  t.equal(logon.status, 200, 'a Logon whose session info Campaign garbled is still answered (with the synthetic one)')
  await until(() => s.logs.some(line => line.includes('session info unavailable')), 'the session info warning')

  const { text } = await everythingReadable(s)
  for (const token of tokens) t.notOk(text.includes(token as string), 'the token Campaign echoed is in no log line and no admin answer')
  t.notOk(text.includes('Bearer'), 'nor is any part of the echo')
  const unreachable = s.logs.map(line => JSON.parse(line) as { msg: string, error?: { type?: string } }).find(line => line.msg.startsWith('Campaign unreachable'))
  t.equal(unreachable?.error?.type, 'HTTPParserError', 'the broken head is logged by the error\'s type (and undici\'s own message)')
  const warning = s.logs.map(line => JSON.parse(line) as { msg: string, error?: { message?: string } }).find(line => line.msg.includes('session info unavailable'))
  t.match(warning?.error?.message, /^\(\d+ characters, sha256:[0-9a-f]{32}\)$/, 'the parser\'s message quoting the tag is logged as its length and digest')
})
