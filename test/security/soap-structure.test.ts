// SOAP structure as a strict parser reads it: anything in the envelope that
// Campaign could act on besides the one method the proxy rewrote — a second
// method, Body or Header, a Header after the Body, a Body inside the Header,
// a second session token, a session token holding elements, a session call
// spelt another way, an action naming another method, malformed XML — is
// refused before anything is forwarded. Each from a network-identified
// caller (whose calls get the bearer), asserting on the simulator's record.
import { once } from 'node:events'
import { request } from 'node:http'
import t from 'tap'
import { hashPassword } from '../../src/auth/passwords.js'
import { PROXY_FAULTS } from '../../src/soap/faults.js'
import { send } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'

const PASSWORD = 'crm-secret-pw'
const NS = 'xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
const env = (inside: string, prolog = ''): string => `${prolog}<SOAP-ENV:Envelope ${NS}>${inside}</SOAP-ENV:Envelope>`
const getOption = (token = ''): string => `<m:GetOption xmlns:m="urn:xtk:session"><sessiontoken>${token}</sessiontoken><name>XtkDatabaseId</name></m:GetOption>`
const credential = `crm_operator/${PASSWORD}`
const logon = (urn: string, method = 'Logon'): string =>
  `<m:${method} xmlns:m="${urn}"><sessiontoken/><login>crm_operator</login><password>${PASSWORD}</password><parameters/></m:${method}>`
const body = (inside: string): string => `<SOAP-ENV:Body>${inside}</SOAP-ENV:Body>`

const REFUSED: readonly (readonly [string, string])[] = [
  ['a second method in the Body', env(body(getOption() + getOption(credential)))],
  ['a second Body', env(body(getOption()) + body(getOption(credential)))],
  ['a Body nested in the Header', env(`<SOAP-ENV:Header>${body(getOption(credential))}</SOAP-ENV:Header>${body(getOption())}`)],
  ['a Header after the Body', env(body(getOption()) + `<SOAP-ENV:Header><Cookie>__sessiontoken=${credential}</Cookie></SOAP-ENV:Header>`)],
  ['a second Header', env(`<SOAP-ENV:Header/><SOAP-ENV:Header><Cookie>__sessiontoken=${credential}</Cookie></SOAP-ENV:Header>${body(getOption())}`)],
  ['an element after the Envelope', `${env(body(getOption()))}<x>${credential}</x>`],
  ['a second sessiontoken after a self-closed first', env(body(`<m:GetOption xmlns:m="urn:xtk:session"><sessiontoken/><sessiontoken>${credential}</sessiontoken><name>XtkDatabaseId</name></m:GetOption>`))],
  ['a second __sessiontoken', env(body(`<m:GetOption xmlns:m="urn:xtk:session"><__sessiontoken/><name>XtkDatabaseId</name><__sessiontoken>${credential}</__sessiontoken></m:GetOption>`))],
  ['a first parameter with element children', env(body(`<m:GetOption xmlns:m="urn:xtk:session"><sessiontoken><a>crm_operator</a>/<b>${PASSWORD}</b></sessiontoken><name>XtkDatabaseId</name></m:GetOption>`))],
  ['a Logon in urn:xtk:Session', env(body(logon('urn:xtk:Session')))],
  ['a Logon in "urn:xtk:session " (trailing space)', env(body(logon('urn:xtk:session ')))],
  ['a Logon spelt logon', env(body(logon('urn:xtk:session', 'logon')))],
  ['a Logon in a pipe list', env(body(logon('urn:xtk:persist|xtk:session')))],
  ['"--" in a comment', env(body(`<m:GetOption xmlns:m="urn:xtk:session"><sessiontoken>${credential}</sessiontoken><!-- a -- b --><name>XtkDatabaseId</name></m:GetOption>`))],
  ['"--" in a comment after the method', env(body(getOption(credential) + '<!-- a -- b -->'))],
  ['an unbound prefix', env(body(`<m:GetOption xmlns:m="urn:xtk:session"><sessiontoken>${credential}</sessiontoken><q:name>XtkDatabaseId</q:name></m:GetOption>`))],
  ['an unbound attribute prefix', env(body(`<m:GetOption xmlns:m="urn:xtk:session"><sessiontoken>${credential}</sessiontoken><name q:type="x">XtkDatabaseId</name></m:GetOption>`))],
  ['a second XML declaration switching the encoding', env(body(getOption(credential)), '<?xml version="1.0" encoding="utf-8"?><?xml version="1.0" encoding="iso-8859-1"?>')],
  ['an XML declaration inside the Body', env(body(`<?xml version="1.0" encoding="iso-8859-1"?>${getOption(credential)}`))],
  ['an XML declaration after the method', env(body(`${getOption(credential)}<?xml version="1.0"?>`))],
  ['a DOCTYPE after the method', env(body(`${getOption(credential)}<!DOCTYPE x>`))],
  ['end tags that do not match', env(body(`<m:GetOption xmlns:m="urn:xtk:session"><sessiontoken>${credential}</sessiontoken><name>XtkDatabaseId</nom></m:GetOption>`))],
  ['a repeated attribute', env(body(`<m:GetOption xmlns:m="urn:xtk:session"><sessiontoken>${credential}</sessiontoken><name a="1" a="2">XtkDatabaseId</name></m:GetOption>`))],
  ['text beside the method', env(body(`${getOption(credential)}stray text`))],
  ['an unterminated method', `<SOAP-ENV:Envelope ${NS}><SOAP-ENV:Body><m:GetOption xmlns:m="urn:xtk:session"><sessiontoken>${credential}</sessiontoken><name>x</name>`],
]

t.test('every ambiguous envelope is refused with 400 and nothing is forwarded', async t => {
  const hash = await hashPassword(PASSWORD, { N: 1024 })
  const s = await startProxyStack(t, {
    integrations: `  - { name: website, networks: [127.0.0.1/32], technicalAccount: marketing }\n  - { name: crm, login: crm_operator, passwordHash: '${hash}', technicalAccount: events }`,
  })
  const post = (envelope: string, headers: Record<string, string> = {}, path = '/nl/jsp/soaprouter.jsp'): ReturnType<typeof send> =>
    send(`${s.server.proxyUrl}${path}`, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8', ...headers }, body: envelope })

  for (const [what, envelope] of REFUSED) {
    const before = s.campaign.requests.length
    const answer = await post(envelope)
    t.equal(answer.status, 400, `${what}: 400`)
    t.match(answer.text, /PRX-0000(02|15|01)/, `${what}: the proxy's fault (${/<detail[^>]*>([^<]*)/.exec(answer.text)?.[1] ?? ''})`)
    t.equal(s.campaign.requests.length, before, `${what}: nothing forwarded`)
  }

  const mismatches: readonly (readonly [string, string, Record<string, string>, string?])[] = [
    ['SOAPAction Logon on a GetOption body', env(body(getOption(credential))), { soapaction: 'xtk:session#Logon' }],
    ['SOAPAction GetOption on a Logon body', env(body(logon('urn:xtk:session'))), { soapaction: '"xtk:session#GetOption"' }],
    ['?soapAction= naming Logon on a GetOption body', env(body(getOption(credential))), {}, '/nl/jsp/soaprouter.jsp?soapAction=xtk%3Asession%23Logon'],
    ['SOAP 1.2 action= naming Logon', env(body(getOption(credential))).replace('http://schemas.xmlsoap.org/soap/envelope/', 'http://www.w3.org/2003/05/soap-envelope'), { 'content-type': 'application/soap+xml; charset=utf-8; action="urn:xtk:session#Logon"' }],
  ]
  for (const [what, envelope, headers, path] of mismatches) {
    const before = s.campaign.requests.length
    const answer = await post(envelope, headers, path)
    t.equal(answer.status, 400, `${what}: 400`)
    t.match(answer.text, PROXY_FAULTS.actionMismatch.message, `${what}: says the action and the Body differ`)
    t.equal(s.campaign.requests.length, before, `${what}: nothing forwarded`)
  }

  // What every client of the compatibility matrix sends still passes.
  const served: readonly (readonly [string, string, Record<string, string>, string?])[] = [
    ['matching unquoted SOAPAction', env(body(getOption())), { soapaction: 'xtk:session#GetOption' }],
    ['matching quoted SOAPAction', env(body(getOption())), { soapaction: '"xtk:session#GetOption"' }],
    ['empty quoted SOAPAction', env(body(getOption())), { soapaction: '""' }],
    ['a urn: prefixed SOAPAction', env(body(getOption())), { soapaction: 'urn:xtk:session#GetOption' }],
    ['acc-js-sdk ?soapAction=', env(body(getOption())), { soapaction: 'xtk:session#GetOption' }, '/nl/jsp/soaprouter.jsp?soapAction=xtk%3Asession%23GetOption'],
    ['a pipe list', env(body('<m:Write xmlns:m="urn:xtk:persist|xtk:session"><sessiontoken/><domDoc><x xtkschema="nms:recipient"/></domDoc></m:Write>')), { soapaction: 'xtk:persist|xtk:session#Write' }],
    ['comments and a processing instruction around the method', env(body(`<!-- before --><?pi x?>${getOption()}<!-- after -->`), '<?xml version="1.0" encoding="utf-8"?>\n<!-- prolog -->') + '\n<!-- epilog -->\n', {}],
  ]
  for (const [what, envelope, headers, path] of served) {
    const before = s.campaign.requests.length
    const answer = await post(envelope, headers, path)
    t.not(answer.status, 400, `${what}: not refused by the proxy (${answer.status})`)
    t.equal(s.campaign.requests.length, before + 1, `${what}: forwarded`)
    t.match(String(s.campaign.requests.at(-1)?.headers.authorization), /^Bearer /, `${what}: with the bearer`)
  }

  const before = s.campaign.requests.length
  const bearerLogon = await post(env(body('<m:BearerTokenLogon xmlns:m="urn:xtk:session"><sessiontoken/><bearerToken>client-own-token</bearerToken></m:BearerTokenLogon>')), { soapaction: 'xtk:session#BearerTokenLogon' })
  t.match(bearerLogon.text, PROXY_FAULTS.sessionInvalid.message, 'BearerTokenLogon from an identified caller: refused (a session call is never sent with the proxy\'s token)')
  t.equal(s.campaign.requests.length, before, 'and not forwarded')
})

t.test('a streamed body breaking the structure past its head never reaches Campaign whole', async t => {
  const s = await startProxyStack(t, { integrations: '  - { name: website, networks: [127.0.0.1/32], technicalAccount: marketing }' })
  const padding = `<name>${'x'.repeat(2 * 1024 * 1024)}</name>`
  const envelope = env(body(`<m:GetOption xmlns:m="urn:xtk:session"><sessiontoken/>${padding}</m:GetOption><m:GetOption xmlns:m="urn:xtk:session"><sessiontoken>${credential}</sessiontoken></m:GetOption>`))
  // Chunked (no Content-Length): the proxy streams what it does not need to read whole.
  const req = request(s.soapRouter, { method: 'POST', agent: false, headers: { 'content-type': 'text/xml; charset=utf-8' } })
  for (let at = 0; at < envelope.length; at += 64 * 1024) req.write(envelope.slice(at, at + 64 * 1024))
  req.end()
  const [res] = await once(req, 'response') as [import('node:http').IncomingMessage]
  const chunks: Buffer[] = []
  for await (const chunk of res) chunks.push(chunk as Buffer)
  t.equal(res.statusCode, 400, 'the client gets 400')
  t.match(Buffer.concat(chunks).toString(), 'a second method element', 'saying why')
  t.equal(s.campaign.requests.filter(r => r.body.includes(credential)).length, 0, 'Campaign never received the request whole')
})
