// A session token in the query string (?__sessiontoken=, which Campaign's
// JSP pages read): a proxy session there never reaches Campaign, and a
// Campaign session there is never sent next to the proxy's bearer; a legacy
// call forwarded untouched keeps it.
import t from 'tap'
import { hashPassword } from '../../src/auth/passwords.js'
import { PROXY_FAULTS } from '../../src/soap/faults.js'
import { send, soapPost } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'
import { outputText, soapEnvelope } from '../fixtures/soap.js'

const PASSWORD = 'query-session-pw'
const NATIVE = '___D3F1A2B4-0C5E-4F6A-8B7C-9D0E1F2A3B4C'

t.test('query-string session tokens', async t => {
  const hash = await hashPassword(PASSWORD, { N: 1024 })
  const s = await startProxyStack(t, {
    integrations: [
      `  - { name: nightly-etl, login: etl_operator, passwordHash: '${hash}', technicalAccount: marketing }`,
      '  - { name: website, networks: [127.0.0.1/32], technicalAccount: events }',
    ].join('\n'),
  })
  const logon = await soapPost(s.soapRouter, soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', 'etl_operator'], ['password', PASSWORD], ['parameters', { xml: '' }]] }), {}, 'xtk:session#Logon')
  const session = outputText(logon.text, 'pstrSessionToken') ?? ''
  t.match(session, /^___/, 'a proxy session')
  const forwarded = async (path: string, localAddress?: string): Promise<{ status: number, text: string, received: number, url: string | undefined }> => {
    const before = s.campaign.requests.length
    const answer = await send(`${s.server.proxyUrl}${path}`, localAddress === undefined ? {} : { localAddress })
    return { status: answer.status, text: answer.text, received: s.campaign.requests.length - before, url: s.campaign.requests.at(-1)?.url }
  }
  for (const [what, path] of [
    ['as written', `/r/test?__sessiontoken=${session}`],
    ['escaped', `/r/test?__sessiontoken=${encodeURIComponent(session).replace(/_/g, '%5F')}`],
    ['in another case, after another parameter', `/r/test?x=1&__SessionToken=${session}`],
  ] as const) {
    const refused = await forwarded(path)
    t.equal(refused.status, 500, `a proxy session in the query string (${what}): refused like Campaign`)
    t.match(refused.text, PROXY_FAULTS.sessionInvalid.message, `${what}: with XSV-350008`)
    t.match(refused.text, 'a proxy session in the query string', `${what}: saying why`)
    t.equal(refused.received, 0, `${what}: Campaign received nothing`)
  }
  const withBearer = await forwarded(`/r/test?__sessiontoken=${NATIVE}`)
  t.equal(withBearer.status, 500, 'a Campaign session in the query string of a call that would get the bearer: refused')
  t.match(withBearer.text, 'is not sent together with the proxy token', 'saying why')
  t.equal(withBearer.received, 0, 'nothing forwarded')
  const plain = await forwarded('/r/test?__sessiontoken=')
  t.equal(plain.status, 200, 'an empty one is no session: served')
  t.equal(plain.received, 1, 'and forwarded')
  const legacy = await forwarded(`/r/test?__sessiontoken=${NATIVE}`, '127.0.0.2')
  t.equal(legacy.status, 200, 'an unknown caller\'s own Campaign session in the query string: forwarded untouched')
  t.equal(legacy.url, `/r/test?__sessiontoken=${NATIVE}`, 'with its query as sent')
  const proxyFromUnknown = await forwarded(`/r/test?__sessiontoken=${session}`, '127.0.0.2')
  t.equal(proxyFromUnknown.received, 0, 'a proxy session in the query string of a call forwarded untouched: refused too')
})
