// networks and trustedProxies: CIDR blocks or single addresses, IPv4 or IPv6, written canonically.
import t from 'tap'
import { normaliseCidr } from '../../src/config/cidr.js'
import { MINIMAL, parse, problemsOf } from '../fixtures/config.js'

t.test('normaliseCidr: canonical address/prefix', async t => {
  const cases: [string, string][] = [
    ['10.1.0.0/16', '10.1.0.0/16'],
    ['192.0.2.7', '192.0.2.7/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['::1', '::1/128'],
    ['::/0', '::/0'],
    ['2001:DB8:0:0:0:0:0:0/32', '2001:db8::/32'],
    ['2001:db8::', '2001:db8::/128'],
    ['fe80:0:0:0:1::/80', 'fe80::1:0:0:0/80'],
    ['::ffff:10.0.0.0/104', '::ffff:a00:0/104'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8/128'],
  ]
  for (const [input, cidr] of cases) t.same(normaliseCidr(input), { ok: true, cidr }, `${input} is written ${cidr}`)
})

t.test('normaliseCidr: refused forms say why', async t => {
  const notNetwork = 'is not an IP address or CIDR block (examples: 10.1.0.0/16, 192.0.2.7, 2001:db8::/32)'
  const cases: [string, string][] = [
    ['300.1.1.1', notNetwork],
    ['10.0.0.0/8/8', notNetwork],
    ['example.com', notNetwork],
    ['', notNetwork],
    ['fe80::1%eth0', notNetwork],
    ['10.0.0.0/33', 'has an invalid prefix length: IPv4 allows /0 to /32'],
    ['10.0.0.0/-1', 'has an invalid prefix length: IPv4 allows /0 to /32'],
    ['10.0.0.0/', 'has an invalid prefix length: IPv4 allows /0 to /32'],
    ['::/129', 'has an invalid prefix length: IPv6 allows /0 to /128'],
    ['10.1.2.3/16', 'has host bits set: the block is 10.1.0.0/16'],
    ['2001:db8::1/32', 'has host bits set: the block is 2001:db8::/32'],
  ]
  for (const [input, problem] of cases) t.same(normaliseCidr(input), { ok: false, problem }, `${JSON.stringify(input)}: ${problem}`)
})

t.test('in a configuration: normalised, and every bad entry reported at its index', async t => {
  const yaml = `${MINIMAL}technicalAccounts:
  main: { clientId: id, clientSecret: s, scopes: [openid] }
integrations:
  - name: web
    networks: [10.20.0.0/16, "2001:db8:20::/48", 192.0.2.7]
    technicalAccount: main
trustedProxies: [10.0.0.10, "::1"]
`
  const config = parse(yaml)
  t.same(config.integrations[0]?.networks, ['10.20.0.0/16', '2001:db8:20::/48', '192.0.2.7/32'], 'integration networks are CIDR blocks')
  t.same(config.trustedProxies, ['10.0.0.10/32', '::1/128'], 'trusted proxies are CIDR blocks')
  t.same(problemsOf(`${MINIMAL}technicalAccounts:
  main: { clientId: id, clientSecret: s, scopes: [openid] }
integrations:
  - name: web
    networks: [10.0.0.0/8, 10.1.2.3/16, 42]
    technicalAccount: main
trustedProxies: [proxy.local]
`), [
    'integrations[0].networks[1]: has host bits set: the block is 10.1.0.0/16',
    'integrations[0].networks[2]: is not an IP address or CIDR block (examples: 10.1.0.0/16, 192.0.2.7, 2001:db8::/32)',
    'trustedProxies[0]: is not an IP address or CIDR block (examples: 10.1.0.0/16, 192.0.2.7, 2001:db8::/32)',
  ], 'indexes name each bad entry; a number is read as text and refused')
})
