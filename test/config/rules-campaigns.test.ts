// Several Campaign instances: `campaigns`, their listeners and hosts, `defaultCampaign`, and per-instance technical accounts.
import t from 'tap'
import { FrozenMap } from '../../src/config/freeze.js'
import { MINIMAL, SESSION_SECRET, parse, problemsOf } from '../fixtures/config.js'

const MKT = 'https://acme-mkt-prod1.campaign.adobe.com'
const RT = 'https://acme-rt-prod1.campaign.adobe.com'
const ACCOUNTS = `sessions:
  secret: ${SESSION_SECRET}
technicalAccounts:
  marketing: { clientId: m, clientSecret: s, scopes: [openid] }
  mc: { clientId: c, clientSecret: s, scopes: [openid] }
`
const TWO = `campaigns:
  marketing:
    url: ${MKT}
    listen: { port: 8081 }
  messageCenter:
    url: ${RT}
    timeoutSeconds: 30
    listen: { host: 127.0.0.1, port: 8082 }
    hosts: [RT.Proxy.Internal, rt2.proxy.internal]
${ACCOUNTS}`

t.test('campaigns: each instance with its own settings, listener and hosts', async t => {
  const config = parse(`${TWO}defaultCampaign: marketing
integrations:
  - { name: crm, networks: [10.1.0.0/16], technicalAccount: marketing }
  - { name: web, networks: [10.2.0.0/16], technicalAccount: { marketing: marketing, messageCenter: mc } }
`)
  t.same([...config.campaigns.values()], [
    { name: 'marketing', url: MKT, timeoutSeconds: 120, connectTimeoutSeconds: 10, caFile: undefined, maxConnections: 64, listen: { host: '0.0.0.0', port: 8081 }, hosts: [] },
    { name: 'messageCenter', url: RT, timeoutSeconds: 30, connectTimeoutSeconds: 10, caFile: undefined, maxConnections: 64, listen: { host: '127.0.0.1', port: 8082 }, hosts: ['rt.proxy.internal', 'rt2.proxy.internal'] },
  ], 'document order; the main listener\'s host unless given; hosts in lower case')
  t.equal(config.defaultCampaign, 'marketing', 'defaultCampaign as given')
  t.same(config.campaign, { url: MKT, timeoutSeconds: 120, connectTimeoutSeconds: 10, caFile: undefined, maxConnections: 64 }, 'campaign: the default instance\'s settings')
  t.same(config.integrations.map(i => i.technicalAccount), ['marketing', new Map([['marketing', 'marketing'], ['messageCenter', 'mc']])], 'an account, or a map of instance to account')
  t.ok(config.integrations[1]?.technicalAccount instanceof FrozenMap, 'the map is frozen')
  t.ok(config.campaigns instanceof FrozenMap && Object.isFrozen(config.campaigns.get('marketing')), 'the instances are frozen')
})

t.test('without defaultCampaign, campaigns has no default; campaign is the first instance\'s', async t => {
  const config = parse(TWO)
  t.equal(config.defaultCampaign, undefined, 'no default')
  t.equal(config.campaign.url, MKT, 'the first instance')
})

t.test('campaign: alone is one instance named default, the default', async t => {
  const config = parse(MINIMAL)
  t.same([[...config.campaigns.keys()], config.defaultCampaign], [['default'], 'default'], 'one instance, default')
  t.same(problemsOf(`${MINIMAL}defaultCampaign: marketing\n`), ['defaultCampaign: names Campaign instance "marketing", which is not defined in campaign (its one instance is "default")'], 'defaultCampaign must name it')
})

t.test('campaigns and campaign together, or neither, or none listed', async t => {
  t.same(problemsOf(`${MINIMAL}${TWO}`), ['campaigns: cannot be used together with campaign: list every instance under campaigns (campaign: alone is one instance named "default")'], 'both keys named')
  t.same(problemsOf(ACCOUNTS), ['campaign: is required'], 'neither')
  t.same(problemsOf('campaigns: {}\n'), ['campaigns: must name at least one Campaign instance'], 'an empty mapping')
})

t.test('instance names, listener ports, hosts and defaultCampaign are checked', async t => {
  t.same(problemsOf(`listen: { port: 8080 }
admin: { port: 9000 }
campaigns:
  1st: { url: ${MKT} }
  a: { url: ${MKT}, listen: { port: 8080 }, hosts: [x.internal, "bad host:1"] }
  b: { url: ${RT}, listen: { port: 9000 }, hosts: [X.internal] }
  c: { url: ${RT}, listen: { port: 8085 } }
  d: { url: ${RT}, listen: { port: 8085 } }
  e: { url: ${RT}, listen: { port: 0 } }
  f: { url: ${RT}, listen: { port: 0 } }
  g: { url: ${RT}, listen: { host: 127.0.0.1 } }
defaultCampaign: z
`), [
    'campaigns.1st: is not a valid Campaign instance name: it must start with a letter and hold at most 64 letters, digits, "_" and "-"',
    'campaigns.a.listen.port: port 8080 is already the port of listen: each listener needs its own port',
    'campaigns.a.hosts[1]: must be a host name without port, such as rt.proxy.internal',
    'campaigns.b.listen.port: port 9000 is already the port of admin: each listener needs its own port',
    'campaigns.b.hosts[0]: "x.internal" already selects campaigns.a: a host selects one instance',
    'campaigns.d.listen.port: port 8085 is already the port of campaigns.c: each listener needs its own port',
    'campaigns.g.listen.port: is required',
    'defaultCampaign: names Campaign instance "z", which is not defined in campaigns',
  ], 'each problem named; port 0 (any free port) may repeat')
  t.same(problemsOf('campaigns:\n  a: { url: "http://acme.campaign.adobe.com" }\n'), ['campaigns.a.url: uses http: TLS is required (plain http is allowed only for loopback hosts: 127.0.0.0/8, ::1, localhost)'], 'each url checked like campaign.url')
})

t.test('a technicalAccount map names configured instances and accounts', async t => {
  t.same(problemsOf(`${TWO}integrations:
  - { name: a, networks: [10.1.0.0/16], technicalAccount: { marketing: nope, rt: mc } }
  - { name: b, networks: [10.2.0.0/16], technicalAccount: {} }
  - { name: c, networks: [10.3.0.0/16], technicalAccount: { marketing: [mc] } }
  - { name: d, networks: [10.4.0.0/16], technicalAccount: [mc] }
`), [
    'integrations[0].technicalAccount.marketing: names technical account "nope", which is not defined in technicalAccounts',
    'integrations[0].technicalAccount.rt: names Campaign instance "rt", which is not defined in campaigns (instances: marketing, messageCenter)',
    'integrations[1].technicalAccount: must name at least one Campaign instance and its technical account',
    'integrations[2].technicalAccount.marketing: must be a string',
    'integrations[3].technicalAccount: must be a technical account name, or a mapping of Campaign instance names to technical account names',
  ], 'unknown accounts and instances named precisely')
  t.same(problemsOf(`${TWO}integrations:\n  - { name: p, mode: passthrough, networks: [10.1.0.0/16], technicalAccount: { marketing: mc } }\n`),
    ['integrations[0].technicalAccount: is not used in passthrough mode (calls are forwarded untouched): remove it, or set mode: ims'], 'a map is refused in passthrough mode too')
})
