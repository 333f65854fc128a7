import t from 'tap'
import { hashPassword, parsePasswordHash, SCRYPT_DEFAULTS, verifyPassword } from '../../src/auth/passwords.js'

t.test('hash and verify round trip, parameters in the string', async t => {
  const hash = await hashPassword('p@ss<&>/x', { N: 1024 })
  t.match(hash, /^scrypt\$N=1024,r=8,p=1\$[\w-]{22}\$[\w-]{43}$/, 'format: parameters, salt and hash in base64url')
  t.ok(await verifyPassword('p@ss<&>/x', hash), 'the right password verifies')
  t.notOk(await verifyPassword('p@ss<&>/y', hash), 'a wrong one does not')
  t.not(await hashPassword('p@ss<&>/x', { N: 1024 }), hash, 'each hash has its own salt')
  const parsed = parsePasswordHash(hash)
  t.same([parsed.N, parsed.r, parsed.p, parsed.salt.length, parsed.hash.length], [1024, 8, 1, 16, 32], 'parameters are read back')
})

t.test('the defaults are scrypt N=32768, r=8, p=1', async t => {
  const hash = await hashPassword('default-cost')
  t.match(hash, new RegExp(`^scrypt\\$N=${SCRYPT_DEFAULTS.N},r=8,p=1\\$`), 'default parameters recorded')
  t.ok(await verifyPassword('default-cost', hash), 'and verified')
})

t.test('malformed hashes are refused with a clear message', async t => {
  const salt = Buffer.alloc(16).toString('base64url')
  const sum = Buffer.alloc(32).toString('base64url')
  const cases: [string, RegExp][] = [
    ['bcrypt$x', /expected scrypt\$/],
    ['scrypt$N=1024$a$b', /parameters must read/],
    [`scrypt$N=1000,r=8,p=1$${salt}$${sum}`, /N must be a power of two/],
    [`scrypt$N=512,r=8,p=1$${salt}$${sum}`, /N must be a power of two/],
    [`scrypt$N=1024,r=0,p=1$${salt}$${sum}`, /r must be from 1/],
    [`scrypt$N=1024,r=8,p=17$${salt}$${sum}`, /p must be from 1/],
    [`scrypt$N=1024,r=8,p=1$c2hvcnQ$${sum}`, /at least 16 bytes/],
  ]
  for (const [encoded, message] of cases) t.throws(() => parsePasswordHash(encoded), { message }, `refused: ${encoded.slice(0, 24)}`)
  await t.rejects(verifyPassword('x', 'scrypt$nope'), /password hash/, 'verify refuses a malformed hash')
})
