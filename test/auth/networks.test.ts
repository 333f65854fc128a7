import t from 'tap'
import { blockListOf, callerAddress, hopAddress, isInBlockList, networkMatcher, normaliseAddress, UNIDENTIFIED_CALLER } from '../../src/auth/networks.js'

t.test('normaliseAddress unwraps IPv4-mapped IPv6 only', async t => {
  t.equal(normaliseAddress('::ffff:10.1.2.3'), '10.1.2.3', 'a mapped IPv4 address becomes plain IPv4')
  t.equal(normaliseAddress('::1'), '::1', 'IPv6 stays as it is')
  t.equal(normaliseAddress('192.168.0.1'), '192.168.0.1', 'IPv4 stays as it is')
})

t.test('blockListOf takes CIDR blocks and single addresses of both families', async t => {
  const list = blockListOf(['10.1.0.0/16', '192.168.7.9', '2001:db8::/32', '::1'])
  t.ok(isInBlockList(list, '10.1.255.4'), 'inside an IPv4 block')
  t.notOk(isInBlockList(list, '10.2.0.1'), 'outside it')
  t.ok(isInBlockList(list, '192.168.7.9'), 'a single IPv4 address')
  t.notOk(isInBlockList(list, '192.168.7.10'), 'its neighbour is not in')
  t.ok(isInBlockList(list, '2001:db8:1::5'), 'inside an IPv6 block')
  t.ok(isInBlockList(list, '::1'), 'a single IPv6 address')
  t.ok(isInBlockList(list, '::ffff:10.1.0.1'), 'an IPv4-mapped address is matched as IPv4')
  t.notOk(isInBlockList(list, 'not-an-address'), 'garbage never matches')
})

t.test('networkMatcher returns the first entry containing the address', async t => {
  const matcher = networkMatcher([
    { networks: [], value: 'no-networks' },
    { networks: ['10.0.0.0/8'], value: 'wide' },
    { networks: ['10.1.0.0/16'], value: 'narrow' },
  ])
  t.equal(matcher.match('10.1.2.3'), 'wide', 'entries are tried in configuration order')
  t.equal(matcher.match('172.16.0.1'), undefined, 'no entry: undefined')
})

t.test('callerAddress believes X-Forwarded-For only from trusted proxies', async t => {
  const trusted = blockListOf(['10.0.0.0/24'])
  t.equal(callerAddress('203.0.113.9', '1.2.3.4', trusted), '203.0.113.9', 'an untrusted peer cannot claim another address')
  t.equal(callerAddress('10.0.0.5', '1.2.3.4', undefined), '10.0.0.5', 'without trusted proxies the socket address is the caller')
  t.equal(callerAddress('10.0.0.5', undefined, trusted), '10.0.0.5', 'a trusted peer without the header is the caller')
  t.equal(callerAddress('10.0.0.5', '198.51.100.7, 10.0.0.4', trusted), '198.51.100.7', 'walks right to left past trusted hops')
  t.equal(callerAddress('10.0.0.5', '6.6.6.6, 198.51.100.7', trusted), '198.51.100.7', 'a spoofed leftmost entry is ignored')
  t.equal(callerAddress('::ffff:10.0.0.5', '10.0.0.3, 10.0.0.4', trusted), '10.0.0.3', 'a chain of trusted proxies yields the leftmost entry')
  t.equal(callerAddress('10.0.0.5', 'garbage, ', trusted), UNIDENTIFIED_CALLER, 'an unreadable hop leaves the caller unidentified (never the trusted peer)')
  t.equal(callerAddress('10.0.0.5', '', trusted), UNIDENTIFIED_CALLER, 'so does an empty header')
})

t.test('callerAddress: ports are dropped, an unreadable hop is never skipped', async t => {
  const trusted = blockListOf(['10.0.0.0/24'])
  const cases: readonly (readonly [string, string, string])[] = [
    ['127.0.0.2, 198.51.100.7:50123', '198.51.100.7', 'ip:port is the address without its port'],
    ['127.0.0.2, [2001:db8::1]:443', '2001:db8::1', '[v6]:port likewise'],
    ['127.0.0.2, [2001:db8::1]', '2001:db8::1', '[v6] without a port'],
    ['127.0.0.2, 2001:db8::1', '2001:db8::1', 'a bare IPv6 address'],
    ['127.0.0.2, ::ffff:198.51.100.7', '198.51.100.7', 'an IPv4-mapped address is the IPv4 one'],
    ['127.0.0.2, unknown', UNIDENTIFIED_CALLER, '"unknown" ends the walk unidentified'],
    ['127.0.0.2, unknown, 10.0.0.4', UNIDENTIFIED_CALLER, 'also behind a trusted hop'],
    ['127.0.0.2, 198.51.100.7:99999x', UNIDENTIFIED_CALLER, 'a malformed port'],
    ['127.0.0.2, [198.51.100.7]:80', UNIDENTIFIED_CALLER, 'brackets around IPv4'],
    ['127.0.0.2, fe80::1%eth0', UNIDENTIFIED_CALLER, 'a zone id'],
    ['127.0.0.2,', UNIDENTIFIED_CALLER, 'an empty last entry'],
    ['127.0.0.2, 10.0.0.4:8080', '127.0.0.2', 'a trusted hop with a port is skipped like one without'],
    ['127.0.0.2', '127.0.0.2', 'a single readable hop is the caller'],
  ]
  for (const [header, expected, what] of cases) t.equal(callerAddress('10.0.0.5', header, trusted), expected, `${JSON.stringify(header)}: ${what}`)
  t.equal(hopAddress(' 203.0.113.9:1 '), '203.0.113.9', 'hopAddress trims')
  t.equal(isInBlockList(trusted, UNIDENTIFIED_CALLER), false, 'the unidentified caller is in no network')
})
