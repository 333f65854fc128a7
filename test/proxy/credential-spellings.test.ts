// A proxy session in any spelling a servlet container might read
// (repeated headers, quoted cookie values, commas between cookies, cookie
// names in another case, several Cookie headers, repeated SOAP Header
// elements) is verified and served with the bearer, or refused locally:
// the token never reaches Campaign.
import t, { type Test } from 'tap'
import { hashPassword } from '../../src/auth/passwords.js'
import type { RecordedRequest } from '../../src/sim/campaign.js'
import { PROXY_FAULTS } from '../../src/soap/faults.js'
import { rawBody, rawExchange, soapPost, type HttpResult } from '../fixtures/http.js'
import { startProxyStack, type ProxyStack } from '../fixtures/proxy-stack.js'
import { outputText, soapEnvelope } from '../fixtures/soap.js'

const PASSWORD = 'crm-secret-pw'
const CAMPAIGN_SESSION = '___D3F1A2B4-0C5E-4F6A-8B7C-9D0E1F2A3B4C'
const getOption = (token = '', header?: ReadonlyArray<readonly [string, string]>): string =>
  soapEnvelope({ schema: 'xtk:session', method: 'GetOption', sessionToken: token, params: [['name', 'XtkDatabaseId']], ...(header === undefined ? {} : { header }) })

interface Outcome {
  readonly status: number
  readonly text: string
  /** What Campaign received during the call. */
  readonly received: readonly RecordedRequest[]
}

interface Session { readonly session: string, readonly security: string }

async function stack (t: Test): Promise<ProxyStack> {
  const hash = await hashPassword(PASSWORD, { N: 1024 })
  return await startProxyStack(t, { integrations: `  - { name: crm, login: crm_operator, passwordHash: '${hash}', technicalAccount: marketing }\n  - { name: legacy, login: admin, mode: passthrough }` })
}

async function logon (s: ProxyStack): Promise<Session> {
  const body = soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', 'crm_operator'], ['password', PASSWORD], ['parameters', { xml: '' }]] })
  const answer = await soapPost(s.soapRouter, body, {}, 'xtk:session#Logon')
  return { session: outputText(answer.text, 'pstrSessionToken') ?? '', security: outputText(answer.text, 'pstrSecurityToken') ?? '' }
}

async function observed (s: ProxyStack, call: () => Promise<{ status: number, text: string }>): Promise<Outcome> {
  const before = s.campaign.requests.length
  const { status, text } = await call()
  return { status, text, received: s.campaign.requests.slice(before) }
}

/** A GET of /r/test written byte for byte, for header lines node:http would join or refuse to repeat. */
async function rawGet (s: ProxyStack, headerLines: readonly string[]): Promise<HttpResult> {
  const response = await rawExchange(s.server.proxyUrl, ['GET /r/test HTTP/1.1', 'Host: proxy.test', ...headerLines, 'Connection: close'].join('\r\n'))
  const text = rawBody(response)
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]), headers: {}, body: Buffer.from(text), text, complete: true }
}

/** Everything of a request Campaign received, as one text. */
function wire (r: RecordedRequest): string {
  return `${r.method} ${r.url}\n${JSON.stringify(r.headers)}\n${r.body.toString('latin1')}`
}

function assertNotForwarded (t: Test, outcome: Outcome, tokens: readonly string[], what: string): void {
  for (const r of outcome.received) {
    for (const token of tokens) t.notOk(wire(r).includes(token), `${what}: the token is nowhere in what Campaign received`)
  }
}

/** Verified: one call to Campaign, with the bearer and without the token. */
function assertServed (t: Test, outcome: Outcome, tokens: readonly string[], what: string): RecordedRequest | undefined {
  t.equal(outcome.status, 200, `${what}: served`)
  t.equal(outcome.received.length, 1, `${what}: one call reached Campaign`)
  t.match(outcome.received[0]?.headers.authorization, /^Bearer /, `${what}: with the bearer`)
  assertNotForwarded(t, outcome, tokens, what)
  return outcome.received[0]
}

/** Refused by the proxy: Campaign's session fault, nothing forwarded. */
function assertRefused (t: Test, outcome: Outcome, what: string): void {
  t.equal(outcome.status, 500, `${what}: refused like Campaign (HTTP 500)`)
  t.match(outcome.text, PROXY_FAULTS.sessionInvalid.message, `${what}: with XSV-350008`)
  t.equal(outcome.received.length, 0, `${what}: nothing reached Campaign`)
}

t.test('each spelling of a verified session is served with the bearer, the token removed', async t => {
  const s = await stack(t)
  const { session, security } = await logon(s)
  t.match(session, /^___/, 'a proxy session to present')
  const tokens = [session, security]

  assertServed(t, await observed(s, async () => await soapPost(s.soapRouter, getOption(), { 'x-session-token': [session, session] })), tokens, 'two X-Session-Token headers with the same token')
  assertServed(t, await observed(s, async () => await rawGet(s, [`X-Session-Token: ${session}`, `X-Session-Token: ${session}`, `X-Security-Token: ${security}`, `X-Security-Token: ${security}`])), tokens, 'repeated session and security token header lines')
  assertServed(t, await observed(s, async () => await soapPost(s.soapRouter, getOption(), { cookie: `__sessiontoken="${session}"` })), tokens, 'a quoted cookie value')
  const comma = assertServed(t, await observed(s, async () => await soapPost(s.soapRouter, getOption(), { cookie: `a=1, __sessiontoken=${session}` })), tokens, 'a comma between cookies')
  t.equal(comma?.headers.cookie, 'a=1', 'a comma between cookies: the other cookie still reaches Campaign')
  assertServed(t, await observed(s, async () => await soapPost(s.soapRouter, getOption(), { cookie: `__SessionToken=${session}` })), tokens, 'the cookie name in another case')
  const twoCookies = assertServed(t, await observed(s, async () => await rawGet(s, ['Cookie: a=1', `Cookie: __sessiontoken=${session}`])), tokens, 'two Cookie header lines')
  t.equal(twoCookies?.headers.cookie, 'a=1', 'two Cookie header lines: the other cookie still reaches Campaign')
  assertServed(t, await observed(s, async () => await soapPost(s.soapRouter, getOption(), { 'x-security-token': `"${security}"` })), tokens, 'a quoted security token alone')
  const soapHeader = assertServed(t, await observed(s, async () => await soapPost(s.soapRouter, getOption('', [['Cookie', 'lang=fr'], ['Cookie', `lang=fr, __SessionToken="${session}"`], ['X-Security-Token', security]]))), tokens, 'the second SOAP Header Cookie, a comma, another case, quoted')
  t.match(soapHeader?.body.toString(), /<Cookie\/?>/, 'the SOAP Header Cookie reached Campaign emptied')
})

t.test('ambiguous or mismatched spellings, and a Campaign Logon carrying a proxy token, are refused locally', async t => {
  const s = await stack(t)
  const one = await logon(s)
  const two = await logon(s)
  t.not(one.session, two.session, 'two sessions to mix')

  assertRefused(t, await observed(s, async () => await soapPost(s.soapRouter, getOption(), { 'x-session-token': [one.session, two.session] })), 'two X-Session-Token headers with different sessions')
  assertRefused(t, await observed(s, async () => await rawGet(s, [`Cookie: __sessiontoken=${one.session}`, `Cookie: __SESSIONTOKEN="${two.session}"`])), 'two Cookie headers with different sessions')
  assertRefused(t, await observed(s, async () => await soapPost(s.soapRouter, getOption(one.session), { cookie: `a=1, __SessionToken=${two.session}` })), 'one session in the body, another in the cookie')
  assertRefused(t, await observed(s, async () => await soapPost(s.soapRouter, getOption(CAMPAIGN_SESSION), { cookie: `__sessiontoken="${one.session}"` })), 'a Campaign session in the body, a proxy session in the cookie')
  assertRefused(t, await observed(s, async () => await soapPost(s.soapRouter, getOption(CAMPAIGN_SESSION), { 'x-security-token': one.security })), 'a Campaign session with a proxy security token')
  assertRefused(t, await observed(s, async () => await soapPost(s.soapRouter, getOption(one.session), { 'x-security-token': [one.security, two.security] })), 'two security tokens')
  const passthroughLogon = soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', 'admin'], ['password', 'admin'], ['parameters', { xml: '' }]] })
  assertRefused(t, await observed(s, async () => await soapPost(s.soapRouter, passthroughLogon, { cookie: `lang=fr, __SessionToken="${one.session}"` }, 'xtk:session#Logon')), "a passthrough login's Logon carrying a proxy session")
  const forwarded = await observed(s, async () => await soapPost(s.soapRouter, passthroughLogon, {}, 'xtk:session#Logon'))
  t.equal(forwarded.received.length, 1, 'without one, that Logon is still Campaign\'s to answer')
})
