import t from 'tap'
import { removeCookie, upstreamHeaders } from '../../src/proxy/headers.js'

t.test('removeCookie drops only the named cookie', async t => {
  t.equal(removeCookie('a=1; __sessiontoken=___x; b=2', '__sessiontoken'), 'a=1; b=2', 'others are kept in order')
  t.equal(removeCookie('__sessiontoken=___x', '__sessiontoken'), undefined, 'nothing left: undefined')
  t.equal(removeCookie('x__sessiontoken=1;__sessiontoken2=2', '__sessiontoken'), 'x__sessiontoken=1;__sessiontoken2=2', 'similar names are not touched, nor their bytes')
  t.equal(removeCookie('flag; __sessiontoken', '__sessiontoken'), 'flag', 'valueless cookies are handled')
})

t.test('removeCookie drops the cookie in every spelling, and keeps the other entries byte for byte', async t => {
  t.equal(removeCookie('a=1, __sessiontoken=___x, b=2', '__sessiontoken'), 'a=1, b=2', 'commas as separators (RFC 2109)')
  t.equal(removeCookie('__sessiontoken="___x"; lang=fr', '__sessiontoken'), 'lang=fr', 'a quoted value, first in the header')
  t.equal(removeCookie('lang=fr; __SessionToken=___x; __SESSIONTOKEN=___y', '__sessiontoken'), 'lang=fr', 'the name in any case, every occurrence')
  t.equal(removeCookie('$Version=1; "__sessiontoken"="___x"; $Path="/"', '__sessiontoken'), '$Version=1; $Path="/"', 'a quoted name (RFC 2965 attributes stay)')
  t.equal(removeCookie('pref=a,b;  theme=dark ', '__sessiontoken'), 'pref=a,b;  theme=dark', 'nothing to remove: the bytes as they were, but for trailing space')
  t.equal(removeCookie(' , __sessiontoken=___x ;', '__sessiontoken'), undefined, 'only separators left: undefined')
})

t.test('an injected bearer removes the session cookie however it is spelt', async t => {
  const headers = upstreamHeaders({ cookie: 'a=1, __SessionToken="___x"; b=2', 'x-session-token': '___x, ___x', 'x-security-token': '"@y"' }, { host: 'c', peer: '10.0.0.5', isPeerTrusted: false, authorization: 'Bearer t', contentLength: undefined })
  t.strictSame(headers, { host: 'c', cookie: 'a=1; b=2', 'x-forwarded-for': '10.0.0.5', authorization: 'Bearer t' }, 'only the other cookies, no session header')
})

t.test('authenticated requests lose every legacy credential and gain the bearer', async t => {
  const headers = upstreamHeaders({
    host: 'proxy.example:8080',
    authorization: 'Basic Zm9vOmJhcg==',
    'x-session-token': '___abc',
    'x-security-token': '@def',
    cookie: 'lang=fr; __sessiontoken=___abc',
    connection: 'keep-alive',
    'keep-alive': 'timeout=5',
    'transfer-encoding': 'chunked',
    expect: '100-continue',
    'proxy-authorization': 'Basic eA==',
    te: 'trailers',
    soapaction: 'xtk:session#GetOption',
    'x-forwarded-for': '6.6.6.6',
    'content-type': 'text/xml; charset=utf-8',
  }, { host: 'campaign.example', peer: '10.1.2.3', isPeerTrusted: false, authorization: 'Bearer tok', contentLength: 42 })
  t.strictSame(headers, {
    host: 'campaign.example',
    soapaction: 'xtk:session#GetOption',
    'x-forwarded-for': '10.1.2.3',
    'content-type': 'text/xml; charset=utf-8',
    'content-length': '42',
    cookie: 'lang=fr',
    authorization: 'Bearer tok',
  }, 'exactly the expected headers: Campaign\'s Host, the client\'s Content-Type verbatim')
})

t.test('passthrough keeps credentials; trusted peers extend X-Forwarded-For', async t => {
  const headers = upstreamHeaders({
    authorization: 'Bearer clients-own',
    cookie: '__sessiontoken=___abc',
    'x-forwarded-for': '198.51.100.7',
    'content-length': '10',
  }, { host: 'c', peer: '10.0.0.5', isPeerTrusted: true, authorization: undefined, contentLength: undefined })
  t.strictSame(headers, {
    host: 'c',
    authorization: 'Bearer clients-own',
    cookie: '__sessiontoken=___abc',
    'x-forwarded-for': '198.51.100.7, 10.0.0.5',
    'content-length': '10',
  }, 'credentials untouched, the peer appended to the chain')
  const onlyCookie = upstreamHeaders({ cookie: '__sessiontoken=___abc', 'x-forwarded-for': '' }, { host: 'c', peer: '::1', isPeerTrusted: true, authorization: 'Bearer t', contentLength: undefined })
  t.strictSame(onlyCookie, { host: 'c', 'x-forwarded-for': '::1', authorization: 'Bearer t' }, 'a cookie header left empty is dropped')
  const noChain = upstreamHeaders({}, { host: 'c', peer: '10.0.0.5', isPeerTrusted: true, authorization: undefined, contentLength: undefined })
  t.strictSame(noChain, { host: 'c', 'x-forwarded-for': '10.0.0.5' }, 'a trusted peer that sends no X-Forwarded-For: the peer alone')
})

t.test('headers the client names in Connection do not reach Campaign', async t => {
  const headers = upstreamHeaders({ connection: 'close, x-drop-me', 'x-drop-me': '1', 'x-keep': '2' }, { host: 'c', peer: '10.0.0.5', isPeerTrusted: false, authorization: undefined, contentLength: undefined })
  t.strictSame(headers, { host: 'c', 'x-keep': '2', 'x-forwarded-for': '10.0.0.5' }, 'x-drop-me is hop-by-hop by the Connection header')
})
