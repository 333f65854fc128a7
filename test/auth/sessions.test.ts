import t from 'tap'
import { SessionTokens } from '../../src/auth/sessions.js'

const SECRET = 'a-session-secret-of-at-least-32-characters'

t.test('issue and verify; another replica with the same secret agrees', async t => {
  let now = 1_000_000
  const a = new SessionTokens({ secret: SECRET, ttlSeconds: 60, now: () => now })
  const b = new SessionTokens({ secret: SECRET, ttlSeconds: 60, now: () => now })
  const issued = a.issue('nightly-etl')
  t.match(issued.sessionToken, /^___[\w-]+\.[\w-]{43}$/, 'a ___ token of base64url and one dot')
  t.match(issued.securityToken, /^@[\w-]+\.[\w-]{43}$/, 'an @ security token')
  t.same(b.verify(issued.sessionToken, issued.securityToken), { ok: true, session: issued.session }, 'another replica verifies both')
  t.same(b.verifySecurityToken(issued.securityToken), { ok: true, session: issued.session }, 'the security token alone verifies')
  t.same(new SessionTokens({ secret: 'another-secret-of-at-least-32-characters!!', ttlSeconds: 60 }).verify(issued.sessionToken), { ok: false, reason: 'signature' }, 'another secret does not')
  now = issued.session.expiresAt - 1
  t.ok(a.verify(issued.sessionToken).ok, 'valid until just before expiry')
  now = issued.session.expiresAt
  t.same(a.verify(issued.sessionToken), { ok: false, reason: 'expired' }, 'expired at expiry')
})

t.test('tampering, mismatch, revocation', async t => {
  const tokens = new SessionTokens({ secret: SECRET, ttlSeconds: 60 })
  const one = tokens.issue('crm')
  const two = tokens.issue('crm')
  for (let i = 3; i < one.sessionToken.length; i += 7) {
    const c = one.sessionToken[i] === 'A' ? 'B' : 'A'
    const forged = one.sessionToken.slice(0, i) + c + one.sessionToken.slice(i + 1)
    if (forged !== one.sessionToken) t.notOk(tokens.verify(forged).ok, `a change at ${i} never verifies`)
  }
  t.same(tokens.verify(one.sessionToken, two.securityToken), { ok: false, reason: 'security-token-mismatch' }, "another session's security token")
  t.same(tokens.verify(one.sessionToken, one.sessionToken), { ok: false, reason: 'security-token-mismatch' }, 'a session token in place of the security token')
  t.same(tokens.verifySecurityToken(one.sessionToken), { ok: false, reason: 'malformed' }, 'a session token is not a security token')
  tokens.revoke(one.session)
  t.same(tokens.verify(one.sessionToken), { ok: false, reason: 'revoked' }, 'revoked on this replica')
  t.ok(tokens.verify(two.sessionToken).ok, 'other sessions unaffected')
})

t.test('shape: ours versus Campaign tokens and inline credentials', async t => {
  const tokens = new SessionTokens({ secret: Buffer.alloc(32, 7), ttlSeconds: 60 })
  const issued = tokens.issue('x')
  t.ok(tokens.isProxyShaped(issued.sessionToken), 'our session token')
  t.ok(tokens.isProxyShaped(issued.securityToken), 'our security token')
  t.notOk(tokens.isProxyShaped('___D3F1A2B4-0C5E-4F6A-8B7C-9D0E1F2A3B4C'), "Campaign's session token")
  t.notOk(tokens.isProxyShaped('@hX3k+Yb9/Zw1=='), "Campaign's security token")
  t.notOk(tokens.isProxyShaped('mc/password'), 'inline credentials')
  t.notOk(tokens.isProxyShaped(''), 'nothing')
  t.notOk(issued.sessionToken.includes('/'), 'never contains a slash')
  t.same(tokens.verify('mc/password'), { ok: false, reason: 'malformed' }, 'verify refuses other shapes')
  t.same(tokens.verify('___a-Campaign-uuid-0000-0000'), { ok: false, reason: 'malformed' }, 'and a Campaign session token, prefix and all')
})

t.test('a flood of Logoffs cannot un-revoke a session: an evicted revocation refuses every earlier session of its integration', async t => {
  let now = Date.parse('2026-12-01T10:00:00Z')
  const sessions = new SessionTokens({ secret: 'flood-test-secret-0123456789abcdefghij', ttlSeconds: 3600, now: () => now, maxRevoked: 2 })
  const earlier = sessions.issue('crm')
  now += 1000
  const victim = sessions.issue('crm')
  sessions.revoke(victim.session)
  now += 1000
  const flood = [sessions.issue('crm'), sessions.issue('crm')]
  for (const f of flood) sessions.revoke(f.session)
  now += 1000
  const later = sessions.issue('crm')
  const other = sessions.issue('website')
  t.same(sessions.verify(victim.sessionToken), { ok: false, reason: 'revoked' }, 'the evicted revocation still holds')
  t.same(sessions.verify(earlier.sessionToken), { ok: false, reason: 'revoked' }, 'and an earlier session of the integration is refused too (its client logs on again)')
  t.equal(sessions.verify(later.sessionToken).ok, true, 'a session issued after it is not affected')
  t.equal(sessions.verify(other.sessionToken).ok, true, 'nor another integration\'s')
  now += 3600 * 1000
  const next = sessions.issue('crm')
  const afterExpiry = sessions.issue('crm')
  sessions.revoke(afterExpiry.session)
  t.equal(sessions.verify(next.sessionToken).ok, true, 'an expired revocation makes room without moving the watermark')
})

t.test('a token verified once is still checked for expiry and revocation on every call', async t => {
  let now = Date.parse('2026-12-01T10:00:00Z')
  const sessions = new SessionTokens({ secret: 'cache-test-secret-0123456789abcdefghij', ttlSeconds: 60, now: () => now })
  const a = sessions.issue('crm')
  const b = sessions.issue('crm')
  t.equal(sessions.verify(a.sessionToken).ok, true, 'verified (and remembered)')
  t.equal(sessions.verify(b.sessionToken, b.securityToken).ok, true, 'with its security token too')
  sessions.revoke(a.session)
  t.same(sessions.verify(a.sessionToken), { ok: false, reason: 'revoked' }, 'a Logoff after it is seen')
  now += 61_000
  t.same(sessions.verify(b.sessionToken, b.securityToken), { ok: false, reason: 'expired' }, 'and so is its expiry')
})
