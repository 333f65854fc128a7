// X-Forwarded-For through a trusted load balancer: the caller is the first
// hop from the right that is not a trusted proxy, ports dropped; a hop that
// is not an address leaves the caller unidentified — it is never skipped,
// which would make the attacker's own entry to its left the caller.
import t from 'tap'
import { send, type HttpResult } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'
import { soapEnvelope } from '../fixtures/soap.js'

t.test('a forwarded hop with a port or an unreadable hop never makes the entry to its left the caller', async t => {
  const s = await startProxyStack(t, {
    integrations: '  - { name: website, networks: [127.0.0.2/32], technicalAccount: marketing }',
    extra: 'trustedProxies: [127.0.0.3/32]',
  })
  const body = soapEnvelope({ schema: 'xtk:session', method: 'GetOption', params: [['name', 'XtkDatabaseId']] })
  const fromBalancer = async (forwardedFor: string): Promise<{ answer: HttpResult, authorization: string | undefined }> => {
    const before = s.campaign.requests.length
    const answer = await send(s.soapRouter, { method: 'POST', localAddress: '127.0.0.3', headers: { 'content-type': 'text/xml; charset=utf-8', 'x-forwarded-for': forwardedFor }, body })
    const forwarded = s.campaign.requests.slice(before)
    t.equal(forwarded.length, 1, `${forwardedFor}: forwarded once`)
    return { answer, authorization: forwarded[0]?.headers.authorization }
  }

  for (const attacker of ['198.51.100.7:50123', '[2001:db8::1]:443', 'unknown', '[2001:db8::1]', '198.51.100.7']) {
    const { authorization } = await fromBalancer(`127.0.0.2, ${attacker}`)
    t.equal(authorization, undefined, `127.0.0.2, ${attacker}: not identified as the 127.0.0.2 integration (no bearer)`)
  }
  const identified = await fromBalancer('127.0.0.2')
  t.match(String(identified.authorization), /^Bearer ey/, '127.0.0.2 alone: the integration, with its bearer')
  t.equal(identified.answer.status, 200, 'and served')
  const withPort = await fromBalancer('127.0.0.2:40001')
  t.match(String(withPort.authorization), /^Bearer ey/, '127.0.0.2:40001 (a balancer that appends the port): the integration too')
  const behindTrusted = await fromBalancer('127.0.0.2, 127.0.0.3')
  t.match(String(behindTrusted.authorization), /^Bearer ey/, 'a trusted hop to its right is skipped')

  // Only the trusted proxy's header is believed.
  const before = s.campaign.requests.length
  await send(s.soapRouter, { method: 'POST', localAddress: '127.0.0.4', headers: { 'content-type': 'text/xml; charset=utf-8', 'x-forwarded-for': '127.0.0.2' }, body })
  t.equal(s.campaign.requests.slice(before)[0]?.headers.authorization, undefined, 'the same header from an untrusted peer identifies nobody')
})
