import { randomBytes } from 'node:crypto'
import t from 'tap'
import { splitInlineCredentials, VerifiedCredentialCache } from '../../src/auth/inline-credentials.js'

t.test('splitInlineCredentials', async t => {
  t.same(splitInlineCredentials('mc/secret'), { login: 'mc', password: 'secret' }, 'login and password')
  t.same(splitInlineCredentials('mc/pa/ss'), { login: 'mc', password: 'pa/ss' }, 'split on the first slash: the password may hold one')
  t.equal(splitInlineCredentials('___session/x'), undefined, 'a session token is not inline credentials')
  t.equal(splitInlineCredentials('@security/x'), undefined, 'nor a security token')
  t.equal(splitInlineCredentials('nologin'), undefined, 'no slash')
  t.equal(splitInlineCredentials('/pw'), undefined, 'no login')
  t.equal(splitInlineCredentials('login/'), undefined, 'no password')
})

t.test('VerifiedCredentialCache remembers verified pairs under an HMAC', async t => {
  let now = 5_000
  const cache = new VerifiedCredentialCache({ key: randomBytes(32), ttlSeconds: 60, now: () => now })
  t.notOk(cache.has('mc', 'pw', 'scrypt$h1'), 'empty at first')
  cache.remember('mc', 'pw', 'scrypt$h1')
  t.ok(cache.has('mc', 'pw', 'scrypt$h1'), 'a remembered pair is found')
  t.notOk(cache.has('mc', 'other', 'scrypt$h1'), 'not with another password')
  t.notOk(cache.has('mc2', 'pw', 'scrypt$h1'), 'not with another login')
  t.notOk(cache.has('mc', 'pw', 'scrypt$h2'), 'not once the configured hash changed')
  t.same(cache.keys(), [cache.cacheKey('mc', 'pw', 'scrypt$h1')], 'only the HMAC is stored')
  t.notMatch(cache.keys().join(''), /pw|mc/, 'the plain password never appears')
  now += 61_000
  t.notOk(cache.has('mc', 'pw', 'scrypt$h1'), 'entries expire')
  const other = new VerifiedCredentialCache({ key: randomBytes(32) })
  t.not(other.cacheKey('mc', 'pw', 'scrypt$h1'), cache.cacheKey('mc', 'pw', 'scrypt$h1'), 'keys differ per process key')
})
