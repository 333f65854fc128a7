import t from 'tap'
import { blockListOf, callerAddress, isInBlockList, networkMatcher, normaliseAddress } from '../../src/auth/networks.js'

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
  t.equal(callerAddress('10.0.0.5', 'garbage, ', trusted), '10.0.0.5', 'an unreadable header falls back to the peer')
})
