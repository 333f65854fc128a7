// Acceptance (hardening): inbound TLS, and integrations identified by their
// client certificate (mTLS). With `require` an unknown certificate fails the
// handshake; with `request` it is simply not an identity (unknownCallers
// applies). Certificates are re-read on reload.
import { copyFile, mkdtemp } from 'node:fs/promises'
import { Agent, request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { connect, type PeerCertificate } from 'node:tls'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { PROXY_FAULTS } from '../../src/soap/faults.js'
import { problemsOf, withMinimal } from '../fixtures/config.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'
import { soapEnvelope } from '../fixtures/soap.js'

const tls = (name: string): string => fileURLToPath(new URL(`../fixtures/tls/${name}`, import.meta.url))
const CLIENT = { key: readFileSync(tls('client-key.pem')), cert: readFileSync(tls('client.pem')) }
const STRANGER = { key: readFileSync(tls('stranger-key.pem')), cert: readFileSync(tls('stranger.pem')) }
const getOption = soapEnvelope({ schema: 'xtk:session', method: 'GetOption', params: [['name', 'XtkDatabaseId']] })
const SERVER_TLS = `{ certFile: '${tls('server.pem')}', keyFile: '${tls('server-key.pem')}', caFile: '${tls('client-ca.pem')}'`

interface Answer { status: number, text: string }

function post (url: string, client: { key?: Buffer, cert?: Buffer } = {}, ca = readFileSync(tls('ca.pem')), agent: Agent | false = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/nl/jsp/soaprouter.jsp`, { method: 'POST', ca, ...client, agent, headers: { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(getOption) } }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(getOption)
  })
}

t.test('require: a known certificate identifies the integration; others fail the handshake', async t => {
  const s = await startProxyStack(t, {
    listenTls: `${SERVER_TLS}, clientCertificates: require }`,
    integrations: "  - { name: crm-sync, clientCertificates: [{ subject: 'cn=crm-sync, o=Acme' }], technicalAccount: marketing }",
    extra: 'unknownCallers: reject',
  })
  t.match(s.server.proxyUrl, /^https:/, 'the proxy listens with TLS')
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ...CLIENT, ca: readFileSync(tls('ca.pem')) })
  t.teardown(() => { agent.destroy() })
  const ok = await post(s.server.proxyUrl, CLIENT, undefined, agent)
  t.equal(ok.status, 200, 'the integration with its certificate is served')
  t.equal((await post(s.server.proxyUrl, CLIENT, undefined, agent)).status, 200, 'again on the same connection (identity computed once per connection)')
  const token = await s.server.tokens.get('marketing')
  t.equal(s.campaign.requests.at(-1)?.headers.authorization, `Bearer ${token.value}`, 'with its account\'s token')
  await t.rejects(post(s.server.proxyUrl, STRANGER), 'a certificate from another CA fails the handshake')
  await t.rejects(post(s.server.proxyUrl), 'no certificate fails the handshake')
  t.equal(s.campaign.requests.length, 2, 'nothing else reached Campaign')
  const metrics = await fetch(`${s.server.adminUrl}/metrics`).then(async r => await r.text())
  t.match(metrics, /requests_total\{[^}]*auth_path="certificate"[^}]*\} 2/, 'the auth path is "certificate"')
  const logs = s.logs.join('')
  t.ok(logs.includes('"authPath":"certificate"'), 'the access log names the certificate path')
  t.notOk(logs.includes(token.value) || logs.includes('marketing-secret') || logs.includes(CLIENT.key.toString().slice(40, 100)), 'and holds no token, client secret or key material')
})

t.test('request: a fingerprint identifies; an unknown certificate is just not an identity', async t => {
  const fingerprint = new (await import('node:crypto')).X509Certificate(CLIENT.cert).fingerprint256
  const s = await startProxyStack(t, {
    listenTls: `${SERVER_TLS}, clientCertificates: request }`,
    integrations: `  - { name: crm-sync, clientCertificates: [{ sha256: '${fingerprint.toLowerCase()}' }], technicalAccount: marketing }`,
    extra: 'unknownCallers: reject',
  })
  t.equal((await post(s.server.proxyUrl, CLIENT)).status, 200, 'the known certificate is served')
  for (const [what, client] of [['an unknown certificate', STRANGER], ['no certificate', {}]] as const) {
    const refused = await post(s.server.proxyUrl, client)
    t.equal(refused.status, 500, `${what}: the handshake succeeds, the request is refused`)
    t.match(refused.text, PROXY_FAULTS.sessionInvalid.message, 'with the unknown-caller fault')
  }
  t.equal(s.campaign.requests.length, 1, 'only the known certificate reached Campaign')
  const anonymous = new Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(tls('ca.pem')) })
  t.teardown(() => { anonymous.destroy() })
  for (let i = 0; i < 2; i++) t.equal((await post(s.server.proxyUrl, {}, undefined, anonymous)).status, 500, `no certificate, call ${i + 1} on one connection: refused`)
})

t.test('a reload re-reads the certificate files', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'tls-reload-'))
  await copyFile(tls('server.pem'), join(dir, 'cert.pem'))
  await copyFile(tls('server-key.pem'), join(dir, 'key.pem'))
  const s = await startProxyStack(t, {
    listenTls: `{ certFile: '${join(dir, 'cert.pem')}', keyFile: '${join(dir, 'key.pem')}' }`,
    integrations: '  - { name: website, networks: [127.0.0.1/32], technicalAccount: marketing }',
  })
  const { port } = new URL(s.server.proxyUrl)
  const peer = (): Promise<PeerCertificate> => new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port), rejectUnauthorized: false }, () => { resolve(socket.getPeerCertificate()); socket.end() })
    socket.on('error', reject)
  })
  const before = (await peer()).fingerprint256
  await copyFile(tls('server2.pem'), join(dir, 'cert.pem'))
  await copyFile(tls('server2-key.pem'), join(dir, 'key.pem'))
  t.same(await s.server.reload(s.config), { ok: true, restartRequired: [], tokensRenewed: false }, 'the reload succeeds')
  const after = (await peer()).fingerprint256
  t.not(after, before, 'new connections get the new certificate')
  const wsdl = await new Promise<string>((resolve, reject) => {
    request(`${s.server.proxyUrl}/nl/jsp/schemawsdl.jsp?schema=nms:rtEvent`, { ca: readFileSync(tls('server2.pem')), agent: false }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve(Buffer.concat(chunks).toString()) })
    }).on('error', reject).end()
  })
  t.match(wsdl, `location="https://127.0.0.1:${port}/nl/jsp/soaprouter.jsp"`, 'a WSDL fetched over TLS names the https endpoint')
  t.equal((await post(s.server.proxyUrl, {}, readFileSync(tls('server2.pem')))).status, 200, 'and are served')
  await copyFile(tls('README.md'), join(dir, 'key.pem'))
  const broken = await s.server.reload(s.config)
  t.match(broken, { ok: false, error: /TLS certificate or key could not be read/ }, 'an unreadable key is refused')
  t.equal((await peer()).fingerprint256, after, 'and the running certificate kept')
})

t.test('configuration rules of TLS and client certificates', async t => {
  const base = withMinimal('technicalAccounts:\n  main: { clientId: a, clientSecret: b, scopes: [x] }\n')
  t.same(problemsOf(`${base}listen:\n  tls: { certFile: '${tls('server.pem')}', keyFile: '${tls('server-key.pem')}', clientCertificates: require }\n`),
    ['listen.tls.caFile: is required with clientCertificates: require (the CA that signs the integrations\' certificates)'], 'client certificates need a CA')
  t.same(problemsOf(`${base}integrations:\n  - { name: a, technicalAccount: main, clientCertificates: [{ subject: CN=a }, { sha256: nope }, { subject: CN=b, sha256: '00' }] }\n  - { name: b, technicalAccount: main, clientCertificates: [{ subject: 'CN = a' }] }\n`), [
    'integrations[0].clientCertificates[0]: needs listen.tls with clientCertificates: request or require (client certificates are only seen over mTLS)',
    'integrations[0].clientCertificates[1]: needs listen.tls with clientCertificates: request or require (client certificates are only seen over mTLS)',
    'integrations[0].clientCertificates[1].sha256: must be a SHA-256 fingerprint: 64 hexadecimal digits, colons allowed (openssl x509 -noout -fingerprint -sha256)',
    'integrations[0].clientCertificates[2]: needs exactly one of subject (e.g. "CN=crm-sync,O=Acme") or sha256 (the certificate\'s SHA-256 fingerprint)',
    'integrations[1].clientCertificates[0]: needs listen.tls with clientCertificates: request or require (client certificates are only seen over mTLS)',
    'integrations[1].clientCertificates[0]: identifies integrations[0] already',
  ], 'each problem of a certificate list')
  t.same(problemsOf(`${base}limits: { headersTimeoutSeconds: 60, requestTimeoutSeconds: 30 }\n`), ['limits.headersTimeoutSeconds: must not exceed limits.requestTimeoutSeconds (30)'], 'the header timeout fits in the request timeout')
})
