// ${NAME} / ${NAME:-default} / $${ in string scalars, before validation.
/* eslint-disable no-template-curly-in-string -- these strings are the configuration's ${NAME} syntax, not templates */
import t from 'tap'
import { interpolate } from '../../src/config/interpolate.js'
import type { Problem } from '../../src/config/problems.js'
import { MINIMAL, parse, problemsOf } from '../fixtures/config.js'

function run (value: unknown, env: Record<string, string | undefined>): { value: unknown, problems: Problem[] } {
  const problems: Problem[] = []
  return { value: interpolate(value, env, [], problems), problems }
}

t.test('references are replaced by the variable, or by the default when it is unset or empty', async t => {
  const env = { HOST: 'acme', EMPTY: '', PORT: '8443' }
  t.same(run('https://${HOST}.campaign.adobe.com:${PORT}', env).value, 'https://acme.campaign.adobe.com:8443', 'several references in one string')
  t.same(run('${MISSING:-fallback}', env).value, 'fallback', 'an unset variable takes the default')
  t.same(run('${EMPTY:-fallback}', env).value, 'fallback', 'an empty variable takes the default, as in a shell')
  t.same(run('${HOST:-fallback}', env).value, 'acme', 'a set variable wins over the default')
  t.same(run('[${EMPTY}]', env).value, '[]', 'an empty variable without default is the empty string')
  t.same(run('${MISSING:-}', env).value, '', 'an empty default is allowed')
  t.same(run('${MISSING:-a:-b c}', env).value, 'a:-b c', 'the default runs to the first }')
})

t.test('$${ is a literal ${, a lone $ stays, substituted text is not interpolated again', async t => {
  const env = { NESTED: '${HOST}', HOST: 'acme' }
  t.same(run('$${HOST} costs $5 and $$', env).value, '${HOST} costs $5 and $$', 'escape, dollar amounts and $$ not before { are kept')
  t.same(run('$$${HOST}', env).value, '$${HOST}', 'a $ before an escape stays a $, then $${ gives ${')
  t.same(run('${NESTED}', env).value, '${HOST}', 'a value that looks like a reference is inserted as is')
  t.same(run('pass${word}', { word: 'word' }).value, 'password', 'lower-case names work')
})

t.test('every string in mappings and lists is interpolated; other scalars are untouched', async t => {
  const { value, problems } = run({ a: ['${X}', 1, true], b: { c: '${X}' }, n: 2.5 }, { X: 'x' })
  t.same(value, { a: ['x', 1, true], b: { c: 'x' }, n: 2.5 }, 'nested strings replaced, numbers and booleans kept')
  t.same(problems, [], 'no problem')
  const proto = run(JSON.parse('{"__proto__": {"polluted": "${X}"}}'), { X: 'x' }).value as Record<string, unknown>
  t.same(Object.keys(proto), ['__proto__'], 'a __proto__ key stays an own key')
  t.equal(Object.getPrototypeOf(proto), Object.prototype, 'and does not replace the prototype')
})

t.test('unset variables and malformed references are problems at their path; the text is kept', async t => {
  const { value, problems } = run({ a: { b: ['ok', '${NOPE}'] }, c: '${1BAD}', d: '${UNCLOSED', e: '${}' }, {})
  t.same(value, { a: { b: ['ok', '${NOPE}'] }, c: '${1BAD}', d: '${UNCLOSED', e: '${}' }, 'strings with problems are left as written')
  const malformed = 'malformed ${...} reference: expected ${NAME} or ${NAME:-default} (write $${ for a literal ${)'
  t.same(problems, [
    { path: ['a', 'b', 1], message: 'environment variable NOPE is not set' },
    { path: ['c'], message: malformed },
    { path: ['d'], message: malformed },
    { path: ['e'], message: malformed },
  ], 'one problem per bad string, with its path')
})

t.test('in a configuration: interpolated before validation, problems named by path', async t => {
  const yaml = `${MINIMAL}listen:
  port: \${PROXY_PORT:-8080}
admin:
  port: \${ADMIN_PORT}
technicalAccounts:
  marketing:
    clientId: \${IMS_CLIENT_ID}
    clientSecret: \${IMS_CLIENT_SECRET}
    scopes: [openid]
`
  t.same(problemsOf(yaml, { env: { IMS_CLIENT_SECRET: 's' } }), [
    'admin.port: environment variable ADMIN_PORT is not set',
    'technicalAccounts.marketing.clientId: environment variable IMS_CLIENT_ID is not set',
  ], 'unset variables are reported once each, not again as a bad port or an empty id')
  const config = parse(yaml, { env: { ADMIN_PORT: '9999', IMS_CLIENT_ID: 'abc', IMS_CLIENT_SECRET: 's' } })
  t.same([config.listen.port, config.admin.port], [8080, 9999], 'ports from defaults and from the environment become numbers')
  t.equal(config.technicalAccounts.get('marketing')?.clientId, 'abc', 'the client id comes from the environment')
})

t.test('numeric strings from the environment are accepted for every number', async t => {
  const config = parse(`campaign:
  url: https://acme.campaign.adobe.com
  timeoutSeconds: \${T}
  maxConnections: "16"
ims:
  refreshRatio: \${R}
sessions:
  ttlSeconds: \${TTL}
limits:
  maxBodyBytes: \${MAX}
`, { env: { T: '30.5', R: '0.5', TTL: '3600', MAX: '2097152' } })
  t.same([config.campaign.timeoutSeconds, config.campaign.maxConnections, config.ims.refreshRatio, config.sessions.ttlSeconds, config.limits.maxBodyBytes],
    [30.5, 16, 0.5, 3600, 2097152], 'strings coerced to numbers, sizes read as bytes')
  t.same(problemsOf(`${MINIMAL}listen:\n  port: \${P}\n`, { env: { P: 'eighty' } }), ['listen.port: must be an integer'], 'a non-numeric string is still refused')
})
