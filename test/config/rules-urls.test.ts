// campaign.url and ims.tokenUrl: absolute http(s), TLS unless loopback; campaign.url is a bare origin.
import t from 'tap'
import { parse, problemsOf } from '../fixtures/config.js'

const campaign = (url: string): string => `campaign:\n  url: "${url}"\n`
const tokenUrl = (url: string): string => `${campaign('https://acme.campaign.adobe.com')}ims:\n  tokenUrl: "${url}"\n`

t.test('campaign.url is normalised to its origin', async t => {
  t.equal(parse(campaign('https://ACME.campaign.adobe.com/')).campaign.url, 'https://acme.campaign.adobe.com', 'trailing slash removed, host lower-cased')
  t.equal(parse(campaign('https://acme.example:8443')).campaign.url, 'https://acme.example:8443', 'a non-default port is kept')
  t.equal(parse(campaign('https://acme.example:443/')).campaign.url, 'https://acme.example', 'the default port is dropped')
})

t.test('plain http only for loopback hosts', async t => {
  for (const url of ['http://127.0.0.1:8082', 'http://127.1.2.3', 'http://localhost:8082', 'http://[::1]:8082']) {
    t.equal(parse(campaign(url)).campaign.url, url, `${url} is loopback: http allowed`)
  }
  const tls = 'uses http: TLS is required (plain http is allowed only for loopback hosts: 127.0.0.0/8, ::1, localhost)'
  t.same(problemsOf(campaign('http://acme.campaign.adobe.com')), [`campaign.url: ${tls}`], 'a remote host needs https')
  t.same(problemsOf(campaign('http://128.0.0.1')), [`campaign.url: ${tls}`], 'an address just outside 127.0.0.0/8 is remote')
  t.same(problemsOf(campaign('http://[::2]')), [`campaign.url: ${tls}`], 'an IPv6 address other than ::1 is remote')
  t.same(problemsOf(tokenUrl('http://ims.example/ims/token/v3')), [`ims.tokenUrl: ${tls}`], 'the IMS endpoint needs TLS as well')
})

t.test('campaign.url: no path, query, fragment or credentials; http(s) only', async t => {
  t.same(problemsOf(campaign('https://user:pw@acme.example/nl/jsp/soaprouter.jsp?x=1#top')), [
    'campaign.url: must not contain a user name or password',
    'campaign.url: must not have a fragment (#...)',
    'campaign.url: must not have a query (?...)',
    'campaign.url: must not have a path (/nl/jsp/soaprouter.jsp): requests keep their own path',
  ], 'every defect of one URL is listed')
  t.same(problemsOf(campaign('acme.campaign.adobe.com')), ['campaign.url: must be an absolute http(s) URL'], 'a bare host name is not absolute')
  t.same(problemsOf(campaign('ftp://acme.example')), ['campaign.url: must be an absolute http(s) URL'], 'other schemes are refused')
})

t.test('ims.tokenUrl keeps its path and query; a fragment is refused', async t => {
  t.equal(parse(tokenUrl('http://127.0.0.1:8081/ims/token/v3?x=1')).ims.tokenUrl, 'http://127.0.0.1:8081/ims/token/v3?x=1', 'path and query are part of the endpoint')
  t.same(problemsOf(tokenUrl('https://ims.example/token#frag')), ['ims.tokenUrl: must not have a fragment (#...)'], 'a fragment is refused')
  t.same(problemsOf(tokenUrl('/ims/token/v3')), ['ims.tokenUrl: must be an absolute http(s) URL'], 'a relative URL is refused')
})

const publicUrl = (url: string): string => `${campaign('https://acme.campaign.adobe.com')}listen:\n  publicUrl: "${url}"\n`

t.test('listen.publicUrl: optional, an http(s) origin, normalised', async t => {
  t.equal(parse(campaign('https://acme.campaign.adobe.com')).listen.publicUrl, undefined, 'not set by default')
  t.equal(parse(publicUrl('')).listen.publicUrl, undefined, "'' means not set (so a variable defaulting to empty switches it off)")
  t.equal(parse(publicUrl('https://Campaign-Proxy.acme.com/')).listen.publicUrl, 'https://campaign-proxy.acme.com', 'trailing slash removed, host lower-cased')
  t.equal(parse(publicUrl('http://campaign-proxy.internal:8080')).listen.publicUrl, 'http://campaign-proxy.internal:8080', 'plain http to a remote host is allowed: it names the proxy, not an upstream')
  t.equal(parse(publicUrl('https://[2001:db8::1]:443')).listen.publicUrl, 'https://[2001:db8::1]', 'an IPv6 address, the default port dropped')
})

t.test('listen.publicUrl: no path, query, fragment or credentials; http(s) only', async t => {
  t.same(problemsOf(publicUrl('https://user:pw@proxy.example/nl/jsp/soaprouter.jsp?x=1#top')), [
    'listen.publicUrl: must not contain a user name or password',
    'listen.publicUrl: must not have a query (?...)',
    'listen.publicUrl: must not have a fragment (#...)',
    'listen.publicUrl: must not have a path (/nl/jsp/soaprouter.jsp): WSDLs name /nl/jsp/soaprouter.jsp under it',
  ], 'every defect of one URL is listed')
  t.same(problemsOf(publicUrl('https://proxy.example/?')), ['listen.publicUrl: must not have a query (?...)'], 'even an empty query')
  t.same(problemsOf(publicUrl('https://proxy.example#')), ['listen.publicUrl: must not have a fragment (#...)'], 'even an empty fragment')
  t.same(problemsOf(publicUrl('proxy.example:8080')), ['listen.publicUrl: must be an absolute http(s) URL, such as https://campaign-proxy.example.com'], 'a host and port without a scheme is no URL')
  t.same(problemsOf(publicUrl('/nl/jsp')), ['listen.publicUrl: must be an absolute http(s) URL, such as https://campaign-proxy.example.com'], 'a relative URL is refused')
  t.same(problemsOf(publicUrl('ftp://proxy.example')), ['listen.publicUrl: must be an absolute http(s) URL, such as https://campaign-proxy.example.com'], 'other schemes are refused')
  t.same(problemsOf(`${campaign('https://acme.campaign.adobe.com')}listen:\n  publicUrl: 8080\n`), ['listen.publicUrl: must be an absolute http(s) URL, such as https://campaign-proxy.example.com'], 'a number (read as its text) is no URL')
})
