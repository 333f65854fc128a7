// Integrations: names and logins unique, account references exist, mode-specific requirements.
import t from 'tap'
import { MAX_INTEGRATION_NAME_LENGTH } from '../../src/config/schema.js'
import { HASH, MINIMAL, SESSION_SECRET, parse, problemsOf } from '../fixtures/config.js'

const ACCOUNTS = `${MINIMAL}sessions:
  secret: ${SESSION_SECRET}
technicalAccounts:
  main: { clientId: id, clientSecret: s, scopes: [openid] }
`
const withIntegrations = (lines: string): string => `${ACCOUNTS}integrations:\n${lines}`

t.test('a valid mix of modes loads', async t => {
  const config = parse(withIntegrations(`  - { name: etl, login: etl_op, passwordHash: "${HASH}", technicalAccount: main }
  - { name: web, networks: [10.1.0.0/16], technicalAccount: main }
  - { name: crm, mode: passthrough, login: crm_op, networks: [10.2.0.0/16] }
`))
  t.same(config.integrations.map(i => [i.name, i.mode, i.login, i.technicalAccount]),
    [['etl', 'ims', 'etl_op', 'main'], ['web', 'ims', undefined, 'main'], ['crm', 'passthrough', 'crm_op', undefined]],
    'login, network and passthrough integrations side by side, in file order')
})

t.test('names and logins are unique', async t => {
  t.same(problemsOf(withIntegrations(`  - { name: a, login: op, passwordHash: "${HASH}", technicalAccount: main }
  - { name: a, mode: passthrough, login: op }
  - { name: b, mode: passthrough, login: op }
`)), [
    'integrations[1].name: name "a" is already used by integrations[0]',
    'integrations[1].login: login "op" is already used by integrations[0]',
    'integrations[2].login: login "op" is already used by integrations[0]',
  ], 'each repeat points at the first use, whatever the mode')
})

t.test('technical account references must exist', async t => {
  t.same(problemsOf(withIntegrations(`  - { name: a, networks: [10.0.0.1], technicalAccount: mian }
wsdl:
  technicalAccount: nope
`)), [
    'integrations[0].technicalAccount: names technical account "mian", which is not defined in technicalAccounts',
    'wsdl.technicalAccount: names technical account "nope", which is not defined in technicalAccounts',
  ], 'integration and WSDL references are both checked')
  const config = parse(`${ACCOUNTS}wsdl:\n  technicalAccount: main\n`)
  t.same(config.wsdl, { technicalAccount: 'main' }, 'a defined account serves the WSDL')
  t.same(parse(`${ACCOUNTS}wsdl:\n  technicalAccount: \${WSDL:-}\n`).wsdl, { technicalAccount: undefined }, 'an empty value means no WSDL account')
})

t.test('ims mode: an account, a way to recognise callers, a login with a scrypt hash', async t => {
  t.same(problemsOf(withIntegrations(`  - { name: nothing }
  - { name: no-hash, login: op1, technicalAccount: main }
  - { name: no-login, networks: [10.0.0.0/8], passwordHash: "${HASH}", technicalAccount: main }
  - { name: bad-hash, login: op2, passwordHash: "plain-password", technicalAccount: main }
`)), [
    'integrations[0]: needs a login (with passwordHash), networks or clientCertificates to recognise its callers',
    'integrations[0].technicalAccount: is required in ims mode: it names the technical account whose token is injected',
    'integrations[1].passwordHash: is required with a login in ims mode: create it with `campaign-ims-proxy hash-password`',
    'integrations[2].passwordHash: is set without a login',
    'integrations[3].passwordHash: must be a hash printed by `campaign-ims-proxy hash-password` (starting with scrypt$)',
  ], 'each missing or inconsistent piece is named')
  t.same(problemsOf(withIntegrations('  - { name: empty, networks: [], technicalAccount: main }\n')),
    ['integrations[0]: needs a login (with passwordHash), networks or clientCertificates to recognise its callers'], 'an empty network list does not count')
})

t.test('passthrough mode: no hash or account, still needs a login or networks', async t => {
  t.same(problemsOf(withIntegrations(`  - { name: p, mode: passthrough, login: op, passwordHash: "${HASH}", technicalAccount: main }
  - { name: q, mode: passthrough }
`)), [
    'integrations[0].passwordHash: is not used in passthrough mode (calls are forwarded untouched): remove it, or set mode: ims',
    'integrations[0].technicalAccount: is not used in passthrough mode (calls are forwarded untouched): remove it, or set mode: ims',
    'integrations[1]: needs a login, networks or clientCertificates to recognise its callers',
  ], 'fields that would suggest a token are refused')
})

t.test('names of accounts and integrations are restricted', async t => {
  t.same(problemsOf(`${MINIMAL}technicalAccounts:
  "-lead": { clientId: id, clientSecret: s, scopes: [openid] }
  "a/b~c": { clientId: id, clientSecret: s }
integrations:
  - { name: "crm sync", mode: passthrough, login: op }
`), [
    'technicalAccounts.-lead: is not a valid technical account name: it must start with a letter or digit and hold only letters, digits, ".", "_" and "-"',
    'technicalAccounts["a/b~c"]: is not a valid technical account name: it must start with a letter or digit and hold only letters, digits, ".", "_" and "-"',
    'technicalAccounts["a/b~c"].scopes: is required',
    'integrations[0].name: must start with a letter or digit and hold only letters, digits, ".", "_" and "-"',
  ], 'names are checked, and keys with / and ~ are located correctly')
  t.ok(parse(`${MINIMAL}technicalAccounts:\n  mc.prod_1-x: { clientId: id, clientSecret: s, scopes: [openid] }\n`).technicalAccounts.has('mc.prod_1-x'),
    'dots, underscores and dashes are fine')
  const named = (length: number): string => `${MINIMAL}integrations:\n  - { name: ${'n'.repeat(length)}, mode: passthrough, login: op }\n`
  t.equal(parse(named(MAX_INTEGRATION_NAME_LENGTH)).integrations[0]?.name.length, MAX_INTEGRATION_NAME_LENGTH, `an integration name of ${MAX_INTEGRATION_NAME_LENGTH} characters is fine`)
  t.same(problemsOf(named(MAX_INTEGRATION_NAME_LENGTH + 1)), [`integrations[0].name: is longer than ${MAX_INTEGRATION_NAME_LENGTH} characters (every proxy session token carries it)`], 'one more is refused')
})

t.test('allowedMethods and allowedPaths: entries checked at load, each malformed one named', async t => {
  const config = parse(withIntegrations(`  - { name: web, networks: [10.1.0.0/16], technicalAccount: main, allowedMethods: ['nms:rtEvent#PushEvent', 'nms:rtEvent#*'], allowedPaths: [/nl/jsp/mcPing.jsp, '/nl/jsp/*'] }
  - { name: etl, networks: [10.2.0.0/16], technicalAccount: main }
`))
  t.same(config.integrations.map(i => [i.allowedMethods, i.allowedPaths]), [
    [['nms:rtEvent#PushEvent', 'nms:rtEvent#*'], ['/nl/jsp/mcPing.jsp', '/nl/jsp/*']],
    [undefined, undefined],
  ], 'lists kept as written; absent keys leave every call allowed')
  t.ok(Object.isFrozen(config.integrations[0]?.allowedMethods), 'frozen like the rest of the configuration')
  t.same(problemsOf(withIntegrations(`  - name: web
    networks: [10.1.0.0/16]
    technicalAccount: main
    allowedMethods: ['urn:nms:rtEvent#PushEvent', PushEvent, 'nms:rtEvent#Push Event', 'nms:rtEvent#PushEvent', 'nms:rtEvent#PushEvent', 42]
    allowedPaths: [nl/jsp/mcPing.jsp, '/nl/jsp/../x', '/r/test?x=1', '/a%2Fb', /r/test]
`)), [
    'integrations[0].allowedMethods[0]: "urn:nms:rtEvent#PushEvent" starts with urn: — write the schema and method as the inventory lists them, e.g. nms:rtEvent#PushEvent',
    'integrations[0].allowedMethods[1]: "PushEvent" is not a SOAP method: write namespace:schema#Method (nms:rtEvent#PushEvent) or namespace:schema#* for every method of the schema',
    'integrations[0].allowedMethods[2]: "nms:rtEvent#Push Event" is not a SOAP method: write namespace:schema#Method (nms:rtEvent#PushEvent) or namespace:schema#* for every method of the schema',
    'integrations[0].allowedMethods[4]: lists "nms:rtEvent#PushEvent" twice',
    'integrations[0].allowedMethods[5]: "42" is not a SOAP method: write namespace:schema#Method (nms:rtEvent#PushEvent) or namespace:schema#* for every method of the schema',
    'integrations[0].allowedPaths[0]: "nl/jsp/mcPing.jsp" is not a path in canonical form: write it from the first slash, without query, dot segments or escapes (/nl/jsp/mcPing.jsp), or end it with /* for a folder and everything under it',
    'integrations[0].allowedPaths[1]: "/nl/jsp/../x" is not a path in canonical form: write it from the first slash, without query, dot segments or escapes (/nl/jsp/mcPing.jsp), or end it with /* for a folder and everything under it',
    'integrations[0].allowedPaths[2]: "/r/test?x=1" is not a path in canonical form: write it from the first slash, without query, dot segments or escapes (/nl/jsp/mcPing.jsp), or end it with /* for a folder and everything under it',
    'integrations[0].allowedPaths[3]: "/a%2Fb" is not a path in canonical form: write it from the first slash, without query, dot segments or escapes (/nl/jsp/mcPing.jsp), or end it with /* for a folder and everything under it',
  ], 'a urn: prefix, a bare name, a space, a repeat, a relative path, a dot segment, a query and an escape are named (a number too, read as text)')
  t.same(problemsOf(withIntegrations(`  - { name: web, networks: [10.1.0.0/16], technicalAccount: main, allowedMethods: nms:rtEvent#PushEvent }
`)).map(p => p.split(':')[0]), ['integrations[0].allowedMethods'], 'a single string instead of a list is refused by its key')
})
