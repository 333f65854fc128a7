// Shape problems: unknown keys (typos), wrong types, empty values, YAML syntax errors.
/* eslint-disable no-template-curly-in-string -- these strings are the configuration's ${NAME} syntax, not templates */
import t from 'tap'
import { ConfigError } from '../../src/config/load.js'
import { MINIMAL, errorOf, parse, problemsOf } from '../fixtures/config.js'

t.test('unknown keys are problems, with the likely intended key', async t => {
  t.same(problemsOf(`${MINIMAL}listen: { prot: 80 }
campaing: {}
ims: { tokenURL: https://ims.example }
technicalAccounts:
  main: { clientId: id, clientSecret: { flie: /x }, scope: [openid] }
integrations:
  - { name: a, mode: passthrough, login: op, completelyDifferent: 1 }
`), [
    'listen.prot: unknown key (did you mean port?)',
    'campaing: unknown key (did you mean campaign?)',
    'ims.tokenURL: unknown key (did you mean tokenUrl?)',
    'technicalAccounts.main.scopes: is required',
    'technicalAccounts.main.clientSecret.file: is required',
    'technicalAccounts.main.clientSecret.flie: unknown key (did you mean file?)',
    'technicalAccounts.main.scope: unknown key (did you mean scopes?)',
    'integrations[0].completelyDifferent: unknown key',
  ], 'typos are never silently ignored')
})

t.test('wrong types are named in words', async t => {
  t.same(problemsOf(`campaign: https://acme.example
listen: { host: [a], port: eighty }
ims: { refreshRatio: high }
technicalAccounts: [main]
integrations: { name: a }
trustedProxies: 10.0.0.1
`), [
    'campaign: must be a mapping',
    'listen.host: must be a string',
    'listen.port: must be an integer',
    'ims.refreshRatio: must be a number',
    'technicalAccounts: must be a mapping',
    'integrations: must be a list',
    'trustedProxies: must be a list',
  ], 'mapping, string, integer, number and list errors')
  t.same(problemsOf(`${MINIMAL}technicalAccounts:
  main: { clientSecret: s, scopes: [] }
integrations:
  - { networks: [{ a: 1 }], mode: IMS }
  - 42
`), [
    'technicalAccounts.main.clientId: is required',
    'technicalAccounts.main.scopes: must list at least one entry',
    'integrations[0].name: is required',
    'integrations[0].networks[0]: must be a string',
    'integrations[0].mode: must be one of: ims, passthrough',
    'integrations[1]: must be a mapping',
  ], 'missing keys, empty lists, enumerations and list items; no follow-up problem for values already refused')
})

t.test('scalars the schema wants as strings are read as strings', async t => {
  const config = parse(`${MINIMAL}technicalAccounts:
  "42": { clientId: 12345, clientSecret: 67890, scopes: [openid] }
integrations:
  - { name: 7, mode: passthrough, login: 1001 }
`)
  t.same(config.technicalAccounts.get('42'), { name: '42', clientId: '12345', clientSecret: { kind: 'value', value: '67890' }, scopes: ['openid'] },
    'numeric ids and secrets become strings')
  t.same(config.integrations[0], { name: '7', mode: 'passthrough', login: '1001', passwordHash: undefined, networks: [], clientCertificates: [], technicalAccount: undefined },
    'a numeric login becomes a string')
})

t.test('keys and list items without a value are problems (not 0 or "")', async t => {
  t.same(problemsOf(`${MINIMAL}listen:
  port:
sessions:
technicalAccounts:
  main: { clientId: id, clientSecret: s, scopes: [openid, ~] }
`), [
    'listen.port: has no value: give one, or remove the key to use the default',
    'sessions: has no value: give one, or remove the key to use the default',
    'technicalAccounts.main.scopes[1]: is an empty list item: give it a value or remove it',
  ], 'each empty value once, not again as a type error')
})

t.test('the document must be a mapping', async t => {
  t.same(problemsOf('- campaign\n'), ['(root): must be a mapping of configuration keys'], 'a list is refused')
  t.same(problemsOf('just text\n'), ['(root): must be a mapping of configuration keys'], 'a scalar is refused')
})

t.test('YAML syntax errors are reported alone, with line and column', async t => {
  t.same(problemsOf(`campaign:
  url: https://a.example
listen:
  port: 1
listen:
  port: 2
admin: { port: 1 }
admin: { port: 2 }
`), [
    'line 5, column 1: Map keys must be unique',
    'line 8, column 1: Map keys must be unique',
  ], 'every duplicate key is listed')
  t.same(problemsOf(`campaign:
  url: https://a.example
technicalAccounts:
  main:
    clientSecret: { file: \${SECRET_FILE} }
    scopes: [openid]
`), [
    'line 5, column 28: Unexpected flow-map-start at node end (a ${...} reference inside { } or [ ] must be quoted: "${NAME}")',
    '(7 further syntax errors after line 5, probably caused by it, not listed)',
  ], 'an unquoted reference in a flow mapping gets a hint; its consequences are counted, not listed')
  t.same(problemsOf('a: 1\na: 2\nb: "unterminated\n'), [
    'line 2, column 1: Map keys must be unique',
    'line 4, column 1: Missing closing "quote',
  ], 'duplicates and the first other error, without a hint where none applies')
})

t.test('ConfigError: one message listing every problem', async t => {
  const error = errorOf(`${MINIMAL}listen: { port: 70000 }\nlogging: { level: loud }\n`)
  t.ok(error instanceof ConfigError, 'a ConfigError')
  t.equal(error.name, 'ConfigError', 'named for logs')
  t.equal(error.source, 'test.yaml', 'carries its source')
  t.equal(error.message, 'invalid configuration (test.yaml):\n  listen.port: must be <= 65535\n  logging.level: must be one of: fatal, error, warn, info, debug, trace, silent',
    'the message lists each problem on its own indented line')
  t.ok(Object.isFrozen(error.problems), 'the list of problems is frozen')
})
