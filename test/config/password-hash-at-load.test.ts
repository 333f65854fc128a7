// A malformed integrations[].passwordHash is refused when the configuration
// loads, with the reason the Logon check would give (never the hash itself),
// rather than passing validation and failing at the first Logon.
import t from 'tap'
import { hashPassword, verifyPassword } from '../../src/auth/passwords.js'
import { MINIMAL, SESSION_SECRET, errorOf, parse, problemsOf } from '../fixtures/config.js'

const SALT = 'c2FsdHNhbHRzYWx0c2FsdA' // 16 bytes
const KEY = 'aGFzaGhhc2hoYXNoaGFzaA' // 16 bytes

function withHash (passwordHash: string, extra = ''): string {
  return `${MINIMAL}sessions:
  secret: ${SESSION_SECRET}
technicalAccounts:
  main: { clientId: id, clientSecret: s, scopes: [openid] }
integrations:
  - { name: etl, login: etl_op, passwordHash: "${passwordHash}", technicalAccount: main }
${extra}`
}

t.test('a malformed hash is refused at load, naming integrations[i].passwordHash and why', async t => {
  const cases: [string, string][] = [
    ['scrypt$oops', 'password hash: expected scrypt$N=..,r=..,p=..$<salt>$<hash>'],
    ['scrypt$16384$8$1$c2FsdA$aGFzaA', 'password hash: expected scrypt$N=..,r=..,p=..$<salt>$<hash>'],
    [`scrypt$r=8,N=1024,p=1$${SALT}$${KEY}`, 'password hash: parameters must read N=<n>,r=<r>,p=<p>'],
    ['scrypt$N=3,r=8,p=1$x$y', 'password hash: N must be a power of two from 2^10 to 2^20'],
    [`scrypt$N=1000,r=8,p=1$${SALT}$${KEY}`, 'password hash: N must be a power of two from 2^10 to 2^20'],
    [`scrypt$N=2097152,r=8,p=1$${SALT}$${KEY}`, 'password hash: N must be a power of two from 2^10 to 2^20'],
    [`scrypt$N=1024,r=0,p=1$${SALT}$${KEY}`, 'password hash: r must be from 1 to 32'],
    [`scrypt$N=1024,r=8,p=17$${SALT}$${KEY}`, 'password hash: p must be from 1 to 16'],
    ['scrypt$N=1024,r=8,p=1$c2FsdA$aGFzaA', 'password hash: salt and hash must be at least 16 bytes'],
    [`scrypt$N=1024,r=8,p=1$${SALT}$`, 'password hash: salt and hash must be at least 16 bytes'],
  ]
  for (const [hash, reason] of cases) {
    const error = errorOf(withHash(hash))
    t.same(error.problems, [`integrations[0].passwordHash: ${reason}`], `${hash}: refused, with the reason`)
    t.notOk(error.message.includes(hash), `${hash}: the message does not echo the hash`)
  }
})

t.test('the index names the integration; a hash from the environment is checked too', async t => {
  t.same(problemsOf(withHash('scrypt$N=1024,r=8,p=1$c2FsdA$aGFzaA', '  - { name: crm, login: crm_op, passwordHash: "scrypt$oops", technicalAccount: main }\n')), [
    'integrations[0].passwordHash: password hash: salt and hash must be at least 16 bytes',
    'integrations[1].passwordHash: password hash: expected scrypt$N=..,r=..,p=..$<salt>$<hash>',
  ], 'each malformed hash at its own index, in document order')
  // eslint-disable-next-line no-template-curly-in-string -- the configuration's ${NAME} syntax
  t.same(problemsOf(withHash('${ETL_HASH}'), { env: { ETL_HASH: 'scrypt$oops' } }),
    ['integrations[0].passwordHash: password hash: expected scrypt$N=..,r=..,p=..$<salt>$<hash>'], 'the interpolated value is parsed')
})

t.test('the other passwordHash rules are unchanged', async t => {
  t.same(problemsOf(withHash('plain-password')),
    ['integrations[0].passwordHash: must be a hash printed by `campaign-ims-proxy hash-password` (starting with scrypt$)'],
    'without the scrypt$ prefix: the hint to run hash-password, not a parse error')
  t.same(problemsOf(`${MINIMAL}technicalAccounts:
  main: { clientId: id, clientSecret: s, scopes: [openid] }
integrations:
  - { name: web, networks: [10.0.0.0/8], passwordHash: "scrypt$oops", technicalAccount: main }
  - { name: crm, mode: passthrough, login: crm_op, passwordHash: "scrypt$oops" }
`), [
    'integrations[0].passwordHash: is set without a login',
    'integrations[0].passwordHash: password hash: expected scrypt$N=..,r=..,p=..$<salt>$<hash>',
    'integrations[1].passwordHash: is not used in passthrough mode (calls are forwarded untouched): remove it, or set mode: ims',
  ], 'set without a login: both reasons; in passthrough mode: only that it is unused')
})

t.test('a hash printed by hash-password loads', async t => {
  const hash = await hashPassword('etl-password', { N: 1024 })
  const config = parse(withHash(hash))
  t.equal(config.integrations[0]?.passwordHash, hash, 'kept as written')
  t.ok(await verifyPassword('etl-password', config.integrations[0]?.passwordHash ?? ''), 'and it verifies the password')
  const strongest = await hashPassword('etl-password', { N: 1024, r: 32, p: 16, saltLength: 16, keyLength: 16 })
  t.equal(parse(withHash(strongest)).integrations[0]?.passwordHash, strongest, 'parameters at their bounds load')
})
