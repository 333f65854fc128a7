// Over real sockets on 127.0.0.1: the default undici transport (form bytes, redirects, TLS) and the IMS simulator end to end.
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import type { TechnicalAccountConfig } from '../../src/config/types.js'
import { TokenProvider, type TokenProviderOptions, TokenUnavailableError } from '../../src/ims/token-provider.js'
import { createUndiciTransport, type TokenTransport } from '../../src/ims/transport.js'
import { rateLimited } from '../../src/sim/faults.js'
import { ImsSimulator } from '../../src/sim/ims.js'
import { captureLogger, FakeScheduler, IMS, LIFETIME_MS, MARKETING, rejectionOf, SECRET, T0 } from '../fixtures/ims-harness.js'

// The default undici transport: exact request bytes, no redirects followed, TLS verified, optional CA file.

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/tls/${name}`, import.meta.url))
const TOKEN_BODY = '{"access_token":"abc","token_type":"bearer","expires_in":86399}'

interface Captured { method: string | undefined, url: string | undefined, headers: IncomingMessage['headers'], body: string }

async function listen (t: Test, server: Server, scheme: 'http' | 'https'): Promise<string> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }))
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}/ims/token/v3`
}

function answering (captured: Captured[], status: number, headers: Record<string, string>, body: string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      captured.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(status, headers).end(body)
    })
  }
}

function transportFor (t: Test, tokenUrl: string, caFile?: string): { transport: TokenTransport, request: () => ReturnType<TokenTransport['requestToken']> } {
  const transport = createUndiciTransport({ ...IMS, tokenUrl, caFile })
  t.teardown(() => transport.close())
  const request = () => transport.requestToken({
    tokenUrl,
    clientId: 'marketing-client-id',
    clientSecret: 's3cr3t+/=',
    scopes: ['AdobeID', 'openid'],
    signal: new AbortController().signal,
  })
  return { transport, request }
}

t.test('the token request is a form POST with exactly the four fields', async t => {
  const captured: Captured[] = []
  const url = await listen(t, createHttpServer(answering(captured, 200, { 'content-type': 'application/json' }, TOKEN_BODY)), 'http')
  const response = await transportFor(t, url).request()
  t.equal(response.status, 200, 'the answer status is passed on')
  t.equal(await response.text(), TOKEN_BODY, 'the answer body is passed on')
  t.equal(captured[0]?.method, 'POST', 'the method is POST')
  t.equal(captured[0]?.url, '/ims/token/v3', 'the path is the token endpoint')
  t.equal(captured[0]?.headers['content-type'], 'application/x-www-form-urlencoded', 'the body is declared form-encoded')
  t.equal(captured[0]?.headers['accept'], 'application/json', 'JSON is asked for')
  t.equal(captured[0]?.headers['authorization'], undefined, 'no credentials go in headers')
  t.equal(captured[0]?.body, 'grant_type=client_credentials&client_id=marketing-client-id&client_secret=s3cr3t%2B%2F%3D&scope=AdobeID%2Copenid',
    'the body is the grant, the client id, the encoded secret and the comma-joined scopes')
})

t.test('a redirect is reported, not followed', async t => {
  const captured: Captured[] = []
  const url = await listen(t, createHttpServer(answering(captured, 302, { location: 'http://127.0.0.1:1/elsewhere' }, '')), 'http')
  const response = await transportFor(t, url).request()
  t.equal(response.status, 302, 'the 302 itself is the answer')
  t.equal(captured.length, 1, 'the secret was sent once, to the configured URL only')
})

t.test('TLS is verified: a certificate from an unknown CA is refused, the CA file makes it trusted', async t => {
  const captured: Captured[] = []
  const server = createHttpsServer({ key: readFileSync(fixture('server-key.pem')), cert: readFileSync(fixture('server.pem')) },
    answering(captured, 200, { 'content-type': 'application/json' }, TOKEN_BODY))
  const url = await listen(t, server as unknown as Server, 'https')
  const refused = await transportFor(t, url).request().then(() => undefined, (err: unknown) => err)
  t.equal((refused as Error).message, 'fetch failed', 'the request fails without the CA')
  t.equal(((refused as Error).cause as NodeJS.ErrnoException).code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'because the certificate cannot be verified')
  t.equal(captured.length, 0, 'nothing reached the server')
  const trusted = await transportFor(t, url, fixture('ca.pem')).request()
  t.equal(trusted.status, 200, 'with ims.caFile the same server is trusted')
  t.equal(captured.length, 1, 'and the request reached it')
})

t.test('an unreadable CA file fails at construction, naming the file', async t => {
  const path = `${t.testdirName}/missing-ca.pem`
  t.throws(() => createUndiciTransport({ ...IMS, caFile: path }), { message: `cannot read ims.caFile ${path}: ENOENT` }, 'the transport cannot be built')
  t.throws(() => new TokenProvider({ ims: { ...IMS, caFile: path }, accounts: [MARKETING], logger: captureLogger().logger }),
    { message: `cannot read ims.caFile ${path}: ENOENT` }, 'so neither can a provider with the default transport')
})

// Against the real IMS simulator over 127.0.0.1: the default undici transport end to end.

const SCOPES = ['AdobeID', 'openid', 'campaign_sdk']
const SALES: TechnicalAccountConfig = { name: 'sales', clientId: 'sales-client-id', clientSecret: { kind: 'value', value: 'sales-secret' }, scopes: SCOPES }
const CLIENTS = [
  { clientId: MARKETING.clientId, secrets: [SECRET], scopes: SCOPES },
  { clientId: SALES.clientId, secrets: ['sales-secret'], scopes: SCOPES },
]

async function setup (t: Test, options: Partial<TokenProviderOptions> & { injected?: boolean } = {}) {
  const { injected = true, ...overrides } = options
  const clock = new FakeScheduler()
  const sim = await ImsSimulator.start({ host: '127.0.0.1', port: 0, clients: CLIENTS, ...(injected ? { now: () => clock.now } : {}) })
  t.teardown(() => sim.close())
  const provider = new TokenProvider({
    ims: { ...IMS, tokenUrl: sim.tokenUrl },
    accounts: [MARKETING, SALES],
    logger: captureLogger().logger,
    ...(injected ? { now: () => clock.now, timers: clock, random: () => 0.5 } : {}),
    ...overrides,
  })
  t.teardown(() => provider.close())
  return { sim, provider, clock }
}

t.test('two accounts get two different tokens, one request each (real clock and timers)', async t => {
  const { sim, provider } = await setup(t, { injected: false })
  provider.start()
  const [marketing, sales] = await Promise.all([provider.get('marketing'), provider.get('sales')])
  t.not(marketing.value, sales.value, 'the accounts hold different tokens')
  t.equal(sim.authority.verify(marketing.value).ok, true, 'the marketing token verifies')
  t.equal(sim.authority.verify(sales.value).ok, true, 'the sales token verifies')
  const claims = (token: string) => (sim.authority.verify(token) as { claims: { client_id: string } }).claims.client_id
  t.equal(claims(marketing.value), 'marketing-client-id', 'the marketing token was issued to its client id')
  t.equal(claims(sales.value), 'sales-client-id', 'the sales token was issued to its client id')
  t.equal(sim.tokenRequests('marketing-client-id'), 1, 'one request for marketing')
  t.equal(sim.tokenRequests('sales-client-id'), 1, 'one request for sales')
  t.equal(provider.isReady(), true, 'the provider is ready')
})

t.test('1,000 concurrent first get() per account: one token request per account', async t => {
  const { sim, provider } = await setup(t)
  const all = await Promise.all(Array.from({ length: 2000 }, (_, i) => provider.get(i % 2 === 0 ? 'marketing' : 'sales')))
  t.equal(new Set(all.map(token => token.value)).size, 2, 'two distinct tokens were handed out')
  t.equal(sim.tokenRequests('marketing-client-id'), 1, 'marketing: one token request')
  t.equal(sim.tokenRequests('sales-client-id'), 1, 'sales: one token request')
  t.equal(all[0]?.expiresAt, T0 + LIFETIME_MS, 'expiry is the receive time plus 86,399 s')
})

t.test('429 with Retry-After, then success', async t => {
  const { sim, provider, clock } = await setup(t, { accounts: [MARKETING] })
  sim.faults.inject(rateLimited(2))
  const err = await rejectionOf(t, provider.get('marketing', { waitMs: 0 }))
  t.type(err, TokenUnavailableError, 'the first request is throttled')
  t.equal((err as TokenUnavailableError).retryAfterSeconds, 2, 'the caller is told the 2 s IMS asked for')
  t.equal(provider.status()[0]?.nextAttemptAt, T0 + 2000, 'the retry waits for Retry-After, longer than the 0.75 s backoff')
  await clock.advanceTo(T0 + 2000)
  const token = await provider.get('marketing')
  t.equal(token.obtainedAt, T0 + 2000, 'the retry obtained a token')
  t.equal(sim.tokenRequests('marketing-client-id'), 2, 'two requests reached IMS')
  t.equal(sim.tokensIssued('marketing-client-id'), 1, 'one token was issued')
})

t.test('connection refused at start, then recovery', async t => {
  const { sim, provider, clock } = await setup(t, { accounts: [MARKETING] })
  await sim.refuseConnections(true)
  provider.start()
  const err = await rejectionOf(t, provider.get('marketing', { waitMs: 0 }))
  t.type(err, TokenUnavailableError, 'no token while IMS refuses connections')
  t.equal(provider.status()[0]?.lastError, 'the token request to IMS failed (ECONNREFUSED)', 'the status shows the network failure by its code')
  t.equal(provider.isReady(), false, 'the provider is not ready')
  await sim.refuseConnections(false)
  await clock.advanceTo(provider.status()[0]?.nextAttemptAt as number)
  const token = await provider.get('marketing')
  t.equal(token.account, 'marketing', 'the retry obtained a token')
  t.equal(provider.isReady(), true, 'the provider is ready')
  t.equal(sim.tokenRequests('marketing-client-id'), 1, 'only the successful request reached IMS')
})

t.test('a secret file replaced on disk: the next request uses the new secret', async t => {
  const dir = t.testdir({ secret: `${SECRET}\n` })
  const account = { ...MARKETING, clientSecret: { kind: 'file', path: `${dir}/secret` } } as const
  const { sim, provider } = await setup(t, { accounts: [account] })
  const first = await provider.get('marketing')
  await writeFile(`${dir}/secret`, 'rotated-secret\n')
  sim.registerClient({ clientId: MARKETING.clientId, secrets: ['rotated-secret'], scopes: SCOPES })
  t.equal(provider.invalidate('marketing', first), true, 'the token is invalidated')
  const second = await provider.get('marketing')
  t.not(second.value, first.value, 'a new token was obtained')
  t.equal(sim.tokenRequests('marketing-client-id'), 2, 'two requests reached IMS')
  t.equal(sim.tokensIssued('marketing-client-id'), 2, 'both succeeded: the second carried the new secret, the only one IMS accepts now')
})
