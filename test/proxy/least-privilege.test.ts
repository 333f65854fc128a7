// Least privilege per integration (docs/configuration.md#least-privilege):
// a call outside an integration's allowedMethods / allowedPaths is answered
// 403 with a fault naming the integration and the call, never forwarded,
// and counted; a reload applies changed lists.
import t from 'tap'
import { hashPassword } from '../../src/auth/passwords.js'
import { parseConfig } from '../../src/config/load.js'
import { PROXY_FAULTS } from '../../src/soap/faults.js'
import { send, soapPost, type HttpResult } from '../fixtures/http.js'
import { startProxyStack, type ProxyStack } from '../fixtures/proxy-stack.js'
import { outputText, soapEnvelope } from '../fixtures/soap.js'

const PASSWORD = 'events-pw-0123'

const calls = {
  pushEvent: (token: string): string => soapEnvelope({ schema: 'nms:rtEvent', method: 'PushEvent', sessionToken: token, params: [['domEvent', { xml: '<rtEvent type="welcome" email="a@example.com"/>' }]] }),
  pushEvents: (token: string): string => soapEnvelope({ schema: 'nms:rtEvent', method: 'PushEvents', sessionToken: token, params: [['domEventCollection', { xml: '<rtEvent-collection><rtEvent type="welcome" email="a@example.com"/></rtEvent-collection>' }]] }),
  write: (token: string): string => soapEnvelope({ schema: 'xtk:session', method: 'Write', sessionToken: token, params: [['domDoc', { xml: '<recipient xtkschema="nms:recipient" _operation="insert" email="x@example.com"/>' }]] }),
  executeQuery: (token: string): string => soapEnvelope({ schema: 'xtk:queryDef', method: 'ExecuteQuery', sessionToken: token, params: [['entity', { xml: '<queryDef schema="nms:recipient" operation="select"><select><node expr="@email"/></select></queryDef>' }]] }),
  getOption: (token: string): string => soapEnvelope({ schema: 'xtk:session', method: 'GetOption', sessionToken: token, params: [['name', 'XtkDatabaseId']] }),
  logoff: (token: string): string => soapEnvelope({ schema: 'xtk:session', method: 'Logoff', sessionToken: token, params: [] }),
}
const ACTIONS: Readonly<Record<keyof typeof calls, string>> = {
  pushEvent: 'nms:rtEvent#PushEvent',
  pushEvents: 'nms:rtEvent#PushEvents',
  write: 'xtk:session#Write',
  executeQuery: 'xtk:queryDef#ExecuteQuery',
  getOption: 'xtk:session#GetOption',
  logoff: 'xtk:session#Logoff',
}

function integrations (hash: string, siteMethods: string | undefined): string {
  return [
    `  - { name: website-events, login: site_op, passwordHash: '${hash}', technicalAccount: events${siteMethods === undefined ? '' : `, allowedMethods: ${siteMethods}`} }`,
    `  - { name: bulk-events, login: bulk_op, passwordHash: '${hash}', technicalAccount: events, allowedMethods: ['nms:rtEvent#*'] }`,
    '  - { name: monitoring, networks: [127.0.0.1], technicalAccount: marketing, allowedPaths: [/nl/jsp/mcPing.jsp] }',
  ].join('\n')
}

async function logon (s: ProxyStack, login: string): Promise<string> {
  const body = soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', login], ['password', PASSWORD], ['parameters', { xml: '' }]] })
  const answer = await soapPost(s.soapRouter, body, {}, 'xtk:session#Logon')
  t.equal(answer.status, 200, `${login} logs on (Logon is always allowed)`)
  return outputText(answer.text, 'pstrSessionToken') ?? ''
}

/** A call, and how many requests Campaign received meanwhile. */
async function call (s: ProxyStack, name: keyof typeof calls, token: string): Promise<HttpResult & { readonly received: number }> {
  const before = s.campaign.requests.length
  const answer = await soapPost(s.soapRouter, calls[name](token), {}, ACTIONS[name])
  return { ...answer, received: s.campaign.requests.length - before }
}

function metric (text: string, labels: string): number | undefined {
  const line = text.split('\n').find(l => l.startsWith(`campaign_ims_proxy_refused_total{${labels}} `))
  return line === undefined ? undefined : Number(line.split(' ')[1])
}

t.test('allowedMethods: listed methods reach Campaign, others are answered 403 and never forwarded', async t => {
  const hash = await hashPassword(PASSWORD, { N: 1024 })
  const s = await startProxyStack(t, { integrations: integrations(hash, '[nms:rtEvent#PushEvent]') })
  const site = await logon(s, 'site_op')

  const pushed = await call(s, 'pushEvent', site)
  t.equal(pushed.status, 200, 'PushEvent is served')
  t.equal(pushed.received, 1, 'PushEvent reached Campaign')
  const forwarded = s.campaign.requests.at(-1)
  t.equal(forwarded?.soapMethod, 'nms:rtEvent#PushEvent', 'as PushEvent')
  t.match(forwarded?.headers.authorization, /^Bearer /, 'with the events account\'s bearer')

  for (const name of ['write', 'executeQuery', 'pushEvents'] as const) {
    const refused = await call(s, name, site)
    t.equal(refused.status, 403, `${ACTIONS[name]}: HTTP 403`)
    t.equal(refused.received, 0, `${ACTIONS[name]}: Campaign received nothing`)
    t.match(refused.text, PROXY_FAULTS.forbidden.message, `${ACTIONS[name]}: the least-privilege fault`)
    t.match(refused.text, `integration website-events may not call ${ACTIONS[name]}`, `${ACTIONS[name]}: the fault names the integration and the method`)
    t.match(refused.text, /<faultcode>SOAP-ENV:Client<\/faultcode>/, `${ACTIONS[name]}: a Campaign-shaped client fault`)
  }

  const bulk = await logon(s, 'bulk_op')
  const many = await call(s, 'pushEvents', bulk)
  t.equal(many.status, 200, 'nms:rtEvent#* admits PushEvents')
  t.equal(many.received, 1, 'which reaches Campaign')
  const other = await call(s, 'getOption', bulk)
  t.equal(other.status, 403, 'a method of another schema is refused under a wildcard')
  t.equal(other.received, 0, 'and not forwarded')

  const logoff = await call(s, 'logoff', site)
  t.equal(logoff.status, 200, 'Logoff is always allowed')
  t.equal(logoff.received, 0, 'and still answered by the proxy')

  const metrics = (await send(`${s.server.adminUrl}/metrics`)).text
  t.equal(metric(metrics, 'integration="website-events",reason="method"'), 3, 'the refusal counter grew by the three refused calls')
  t.equal(metric(metrics, 'integration="bulk-events",reason="method"'), 1, 'per integration')
  const forbidden = metrics.split('\n').filter(l => /^campaign_ims_proxy_requests_total\{[^}]*integration="website-events"[^}]*status="403",fault="PRX-000018"\} 1$/.test(l))
  t.equal(forbidden.length, 3, 'requests_total carries the fault code, one series per refused method')

  const inventory = JSON.parse((await send(`${s.server.adminUrl}/integrations`)).text) as { integrations: Array<{ name: string, methods: Record<string, number>, refused: Record<string, number>, allowedMethods: string[] | null, allowedPaths: string[] | null, faults: Record<string, number> }> }
  const entry = inventory.integrations.find(i => i.name === 'website-events')
  if (entry === undefined) throw new Error('website-events is missing from the inventory')
  t.same(entry.methods, { 'xtk:session#Logon': 1, 'nms:rtEvent#PushEvent': 1, 'xtk:session#Logoff': 1 }, 'the inventory lists the methods used, refused ones apart')
  t.same(entry.refused, { 'xtk:session#Write': 1, 'xtk:queryDef#ExecuteQuery': 1, 'nms:rtEvent#PushEvents': 1 }, 'and the refused calls by method')
  t.same(entry.allowedMethods, ['nms:rtEvent#PushEvent'], 'with the configured list')
  t.equal(entry.allowedPaths, null, 'and no path list')
  t.same(entry.faults, { 'PRX-000018': 3 }, 'refusals are faults of the integration')
  t.notOk(s.logs.join('').includes(PASSWORD), 'the password is in no log line')
})

t.test('allowedPaths: listed paths get the bearer, others are refused; methods stay open without allowedMethods', async t => {
  const hash = await hashPassword(PASSWORD, { N: 1024 })
  const s = await startProxyStack(t, { integrations: integrations(hash, '[nms:rtEvent#PushEvent]') })
  const before = s.campaign.requests.length
  const ping = await send(`${s.server.proxyUrl}/nl/jsp/mcPing.jsp`)
  t.equal(ping.status, 200, 'a listed path is served')
  t.match(s.campaign.requests.at(-1)?.headers.authorization, /^Bearer /, 'with the bearer of the network integration')
  const test = await send(`${s.server.proxyUrl}/r/test`)
  t.equal(test.status, 403, 'a path not listed is refused')
  t.match(test.text, 'integration monitoring may not reach /r/test: it is not in its allowedPaths', 'the fault names the integration and the path')
  t.equal(s.campaign.requests.length - before, 1, 'only the listed path reached Campaign')
  const option = await call(s, 'getOption', '')
  t.equal(option.status, 200, 'without allowedMethods every SOAP method passes')
  t.equal(option.received, 1, 'and is forwarded')
  const wsdl = await send(`${s.server.proxyUrl}/nl/jsp/schemawsdl.jsp?schema=nms:rtEvent`)
  t.equal(wsdl.status, 200, 'the WSDL is always allowed')
  const metrics = (await send(`${s.server.adminUrl}/metrics`)).text
  t.equal(metric(metrics, 'integration="monitoring",reason="path"'), 1, 'the path refusal is counted')
  const inventory = JSON.parse((await send(`${s.server.adminUrl}/integrations`)).text) as { integrations: Array<{ name: string, refused: Record<string, number> }> }
  t.same(inventory.integrations.find(i => i.name === 'monitoring')?.refused, { '/r/test': 1 }, 'a refused path is listed by path')
})

t.test('a reload applies changed lists to the next call', async t => {
  const hash = await hashPassword(PASSWORD, { N: 1024 })
  const s = await startProxyStack(t, { integrations: integrations(hash, '[nms:rtEvent#PushEvent]') })
  const site = await logon(s, 'site_op')
  t.equal((await call(s, 'write', site)).status, 403, 'Write refused under the first list')
  const yaml = (siteMethods: string | undefined): string => `
listen: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
campaign: { url: '${s.config.campaigns.get('default')?.url ?? ''}' }
ims: { tokenUrl: '${s.config.ims.tokenUrl}', timeoutSeconds: 5 }
technicalAccounts:
  marketing: { clientId: marketing-client, clientSecret: marketing-secret, scopes: [AdobeID, openid, campaign_sdk] }
  events: { clientId: events-client, clientSecret: events-secret, scopes: [AdobeID, openid, campaign_sdk] }
sessions: { secret: test-session-secret-0123456789abcdefghij, ttlSeconds: 86400 }
integrations:
${integrations(hash, siteMethods)}
`
  const result = await s.server.reload(parseConfig(yaml('[nms:rtEvent#PushEvent, \'xtk:session#Write\']'), { source: 'test', env: {} }))
  t.same(result, { ok: true, restartRequired: [], tokensRenewed: false }, 'the new list reloads without a restart')
  const written = await call(s, 'write', site)
  t.equal(written.status, 200, 'Write is served once listed')
  t.equal(written.received, 1, 'and reaches Campaign')
  t.equal((await call(s, 'executeQuery', site)).status, 403, 'ExecuteQuery still refused')
  const removed = await s.server.reload(parseConfig(yaml(undefined), { source: 'test', env: {} }))
  t.equal(removed.ok, true, 'the list removed')
  t.equal((await call(s, 'executeQuery', site)).received, 1, 'without a list every method passes again')
})
