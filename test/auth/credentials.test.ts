// Where credentials are read: the one value each location gives the
// resolvers, and every value in every spelling (repeated headers, ";" or
// "," between cookies, cookie names in any case, quoted values, repeated
// SOAP Header elements).
import t from 'tap'
import { cookieText, cookieValue, cookieValues, headerValues, isCookieNamed, presentedCredentials, querySessionTokens, unquoted } from '../../src/auth/credentials.js'
import { soapEnvelope } from '../fixtures/soap.js'
import { locate } from '../fixtures/soap-locate.js'

t.test('unquoted strips whitespace and one pair of double quotes', async t => {
  t.equal(unquoted('  "___x" '), '___x', 'quoted, with space around')
  t.equal(unquoted('" ___x "'), '___x', 'space inside the quotes')
  t.equal(unquoted('___x'), '___x', 'unquoted as it is')
  t.equal(unquoted('"'), '"', 'a lone quote is no pair')
  t.equal(unquoted('"___x'), '"___x', 'nor an unclosed one')
})

t.test('cookie values in every spelling', async t => {
  t.same(cookieValues('a=1; __sessiontoken=___x', '__sessiontoken'), ['___x'], 'the RFC 6265 form')
  t.same(cookieValues('a=1, __sessiontoken=___x', '__sessiontoken'), ['___x'], 'a comma between cookies (RFC 2109)')
  t.same(cookieValues('__sessiontoken="___x"', '__sessiontoken'), ['___x'], 'a quoted value')
  t.same(cookieValues('__SessionToken=___x;__SESSIONTOKEN=___y', '__sessiontoken'), ['___x', '___y'], 'the name in any case, every occurrence')
  t.same(cookieValues('$Version="1"; "__sessiontoken"="___x"; $Path="/"', '__sessiontoken'), ['___x'], 'RFC 2965: attributes and a quoted name')
  t.same(cookieValues(['a=1', '__sessiontoken=___x'], '__sessiontoken'), ['___x'], 'several Cookie headers given as a list')
  t.same(cookieValues('x__sessiontoken=1; __sessiontoken2=2; __sessiontoken', '__sessiontoken'), [], 'similar names and a valueless entry are not the cookie')
  t.same(cookieValues(undefined, '__sessiontoken'), [], 'no Cookie header')
  t.equal(cookieText(['a=1', 'b=2']), 'a=1; b=2', 'a list is joined the way Node joins repeated Cookie headers')
  t.equal(cookieText(undefined), '', 'nothing')
  t.ok(isCookieNamed(' __SessionToken ', '__sessiontoken'), 'a valueless entry is named too')
})

t.test('cookieValue, the one value the resolvers read, is the first exact match split at ";"', async t => {
  t.equal(cookieValue('a=1; __sessiontoken=mc/pass,word', '__sessiontoken'), 'mc/pass,word', 'inline credentials with a comma stay whole')
  t.equal(cookieValue('__SessionToken=___x', '__sessiontoken'), '', 'the exact name only')
  t.equal(cookieValue(undefined, '__sessiontoken'), '', 'no Cookie header')
})

t.test('credential header values: repeated headers and quotes', async t => {
  t.same(headerValues('___x, ___y'), ['___x', '___y'], 'Node joins repeated headers with ", "')
  t.same(headerValues(['___x', '"___y"']), ['___x', '___y'], 'a list, each quoted or not')
  t.same(headerValues(undefined), [], 'absent')
})

t.test('presentedCredentials collects every distinct token, and keeps the one value each location gave', async t => {
  const body = soapEnvelope({
    schema: 'xtk:session',
    method: 'GetOption',
    sessionToken: '"___body"',
    header: [['Cookie', 'lang=fr, __SessionToken=___soap1'], ['X-Security-Token', '@soap'], ['Cookie', '__sessiontoken="___soap2"'], ['X-Security-Token', ' "@soap" ']],
  })
  const credentials = presentedCredentials({ 'x-session-token': '___h1, ___h1, "___h2"', cookie: '__sessiontoken=___c1; __SESSIONTOKEN=___c2', 'x-security-token': '@h, @h' }, locate(body))
  t.same(credentials.sessionTokens, ['___body', '___h1', '___h2', '___c1', '___c2', '___soap1', '___soap2'], 'every session token, each once, in the documented order')
  t.same(credentials.securityTokens, ['@h', '@soap'], 'every security token, each once')
  t.equal(credentials.sessionToken, '"___body"', 'the value the resolvers read is the first parameter as written')
  t.equal(credentials.securityToken, '@h, @h', 'and the X-Security-Token header as Node joined it')

  const empty = presentedCredentials({ 'x-session-token': ' , ', cookie: '__sessiontoken=' }, undefined)
  t.same([empty.sessionTokens, empty.securityTokens], [[], []], 'empty values are no tokens')
  t.equal(empty.sessionToken, ',', 'while the header, trimmed, is still the value the resolvers read')
})

t.test('session tokens in a query string', async t => {
  t.same(querySessionTokens(''), [], 'an empty query')
  t.same(querySessionTokens('schema=nms:rtEvent'), [], 'other parameters only')
  t.same(querySessionTokens('__sessiontoken=&x=__sessiontoken'), [], 'an empty value, and the name as another parameter\'s value')
  t.same(querySessionTokens('__sessiontoken=a&__SESSIONTOKEN=%5F%5F%5Fb'), ['a', '___b'], 'every occurrence, any case, decoded')
})
