import { createHmac, createSecretKey, hkdfSync } from 'node:crypto'
import t from 'tap'
import { SessionTokens, type CurrentGenerations } from '../../src/auth/sessions.js'
import { MAX_INTEGRATION_NAME_LENGTH } from '../../src/config/schema.js'

const SECRET = 'a-session-secret-of-at-least-32-characters'
/** A credential generation that every integration of these tests keeps. */
const GEN = 'generation-00001'
const CURRENT: CurrentGenerations = () => GEN

t.test('issue and verify; another replica with the same secret agrees', async t => {
  let now = 1_000_000
  const a = new SessionTokens({ secret: SECRET, ttlSeconds: 60, now: () => now })
  const b = new SessionTokens({ secret: SECRET, ttlSeconds: 60, now: () => now })
  const issued = a.issue('nightly-etl', GEN)
  t.match(issued.sessionToken, /^___[\w-]+\.[\w-]{43}$/, 'a ___ token of base64url and one dot')
  t.match(issued.securityToken, /^@[\w-]+\.[\w-]{43}$/, 'an @ security token')
  t.same(b.verify(issued.sessionToken, issued.securityToken, CURRENT), { ok: true, session: issued.session }, 'another replica verifies both')
  t.same(b.verifySecurityToken(issued.securityToken, CURRENT), { ok: true, session: issued.session }, 'the security token alone verifies')
  t.same(new SessionTokens({ secret: 'another-secret-of-at-least-32-characters!!', ttlSeconds: 60 }).verify(issued.sessionToken, '', CURRENT), { ok: false, reason: 'signature' }, 'another secret does not')
  now = issued.session.expiresAt - 1
  t.ok(a.verify(issued.sessionToken, '', CURRENT).ok, 'valid until just before expiry')
  now = issued.session.expiresAt
  t.same(a.verify(issued.sessionToken, '', CURRENT), { ok: false, reason: 'expired' }, 'expired at expiry')
})

t.test('tampering, mismatch, revocation', async t => {
  const tokens = new SessionTokens({ secret: SECRET, ttlSeconds: 60 })
  const one = tokens.issue('crm', GEN)
  const two = tokens.issue('crm', GEN)
  for (let i = 3; i < one.sessionToken.length; i += 7) {
    const c = one.sessionToken[i] === 'A' ? 'B' : 'A'
    const forged = one.sessionToken.slice(0, i) + c + one.sessionToken.slice(i + 1)
    if (forged !== one.sessionToken) t.notOk(tokens.verify(forged, '', CURRENT).ok, `a change at ${i} never verifies`)
  }
  t.same(tokens.verify(one.sessionToken, two.securityToken, CURRENT), { ok: false, reason: 'security-token-mismatch' }, "another session's security token")
  t.same(tokens.verify(one.sessionToken, one.sessionToken, CURRENT), { ok: false, reason: 'security-token-mismatch' }, 'a session token in place of the security token')
  t.same(tokens.verifySecurityToken(one.sessionToken, CURRENT), { ok: false, reason: 'malformed' }, 'a session token is not a security token')
  tokens.revoke(one.session)
  t.same(tokens.verify(one.sessionToken, '', CURRENT), { ok: false, reason: 'revoked' }, 'revoked on this replica')
  t.ok(tokens.verify(two.sessionToken, '', CURRENT).ok, 'other sessions unaffected')
})

t.test('shape: ours versus Campaign tokens and inline credentials', async t => {
  const tokens = new SessionTokens({ secret: Buffer.alloc(32, 7), ttlSeconds: 60 })
  const issued = tokens.issue('x', GEN)
  t.ok(tokens.isProxyShaped(issued.sessionToken), 'our session token')
  t.ok(tokens.isProxyShaped(issued.securityToken), 'our security token')
  t.notOk(tokens.isProxyShaped('___D3F1A2B4-0C5E-4F6A-8B7C-9D0E1F2A3B4C'), "Campaign's session token")
  t.notOk(tokens.isProxyShaped('@hX3k+Yb9/Zw1=='), "Campaign's security token")
  t.notOk(tokens.isProxyShaped('mc/password'), 'inline credentials')
  t.notOk(tokens.isProxyShaped(''), 'nothing')
  t.notOk(issued.sessionToken.includes('/'), 'never contains a slash')
  t.same(tokens.verify('mc/password', '', CURRENT), { ok: false, reason: 'malformed' }, 'verify refuses other shapes')
  t.same(tokens.verify('___a-Campaign-uuid-0000-0000', '', CURRENT), { ok: false, reason: 'malformed' }, 'and a Campaign session token, prefix and all')
})

t.test('a flood of Logoffs cannot un-revoke a session: an evicted revocation refuses every earlier session of its integration', async t => {
  let now = Date.parse('2026-12-01T10:00:00Z')
  const sessions = new SessionTokens({ secret: 'flood-test-secret-0123456789abcdefghij', ttlSeconds: 3600, now: () => now, maxRevoked: 2 })
  const earlier = sessions.issue('crm', GEN)
  now += 1000
  const victim = sessions.issue('crm', GEN)
  sessions.revoke(victim.session)
  now += 1000
  const flood = [sessions.issue('crm', GEN), sessions.issue('crm', GEN)]
  for (const f of flood) sessions.revoke(f.session)
  now += 1000
  const later = sessions.issue('crm', GEN)
  const other = sessions.issue('website', GEN)
  t.same(sessions.verify(victim.sessionToken, '', CURRENT), { ok: false, reason: 'revoked' }, 'the evicted revocation still holds')
  t.same(sessions.verify(earlier.sessionToken, '', CURRENT), { ok: false, reason: 'revoked' }, 'and an earlier session of the integration is refused too (its client logs on again)')
  t.equal(sessions.verify(later.sessionToken, '', CURRENT).ok, true, 'a session issued after it is not affected')
  t.equal(sessions.verify(other.sessionToken, '', CURRENT).ok, true, 'nor another integration\'s')
  now += 3600 * 1000
  const next = sessions.issue('crm', GEN)
  const afterExpiry = sessions.issue('crm', GEN)
  sessions.revoke(afterExpiry.session)
  t.equal(sessions.verify(next.sessionToken, '', CURRENT).ok, true, 'an expired revocation makes room without moving the watermark')
})

t.test('a token verified once is still checked for expiry and revocation on every call', async t => {
  let now = Date.parse('2026-12-01T10:00:00Z')
  const sessions = new SessionTokens({ secret: 'cache-test-secret-0123456789abcdefghij', ttlSeconds: 60, now: () => now })
  const a = sessions.issue('crm', GEN)
  const b = sessions.issue('crm', GEN)
  t.equal(sessions.verify(a.sessionToken, '', CURRENT).ok, true, 'verified (and remembered)')
  t.equal(sessions.verify(b.sessionToken, b.securityToken, CURRENT).ok, true, 'with its security token too')
  sessions.revoke(a.session)
  t.same(sessions.verify(a.sessionToken, '', CURRENT), { ok: false, reason: 'revoked' }, 'a Logoff after it is seen')
  now += 61_000
  t.same(sessions.verify(b.sessionToken, b.securityToken, CURRENT), { ok: false, reason: 'expired' }, 'and so is its expiry')
})

t.test('a session is bound to the credential generation it was issued under', async t => {
  let now = Date.parse('2026-12-01T10:00:00Z')
  const sessions = new SessionTokens({ secret: SECRET, ttlSeconds: 60, now: () => now })
  const replica = new SessionTokens({ secret: SECRET, ttlSeconds: 60, now: () => now })
  const parts = ['crm', 'ims', 'crm_op', 'scrypt$N=1024,r=8,p=1$salt$hash', 'marketing']
  const first = sessions.generation(parts)
  t.match(first, /^[A-Za-z0-9_-]{16}$/, 'a generation is 16 base64url characters')
  t.equal(replica.generation(parts), first, 'another replica with the same secret computes the same one (stateless)')
  t.not(new SessionTokens({ secret: `${SECRET}!`, ttlSeconds: 60 }).generation(parts), first, 'another secret does not')
  for (let i = 0; i < parts.length; i++) {
    t.not(sessions.generation(parts.map((p, j) => j === i ? `${p}x` : p)), first, `a change of part ${i} is another generation`)
  }
  t.not(sessions.generation(['crm', 'ims', undefined, undefined, 'marketing']), sessions.generation(['crm', 'ims', '', '', 'marketing']), 'an absent part is not an empty one')
  t.equal(sessions.generation(parts).length, first.length, 'the same length whatever the parts')

  const rotated = sessions.generation([...parts.slice(0, 3), 'scrypt$N=1024,r=8,p=1$salt2$hash2', 'marketing'])
  const issued = sessions.issue('crm', first)
  t.equal(issued.session.generation, first, 'the session carries its generation')
  let current: string | undefined = first
  const generations: CurrentGenerations = name => name === 'crm' ? current : undefined
  t.ok(sessions.verify(issued.sessionToken, issued.securityToken, generations).ok, 'valid under the generation it was issued under (and now remembered)')
  t.ok(replica.verify(issued.sessionToken, issued.securityToken, generations).ok, 'on another replica too')
  current = rotated
  t.same(sessions.verify(issued.sessionToken, issued.securityToken, generations), { ok: false, reason: 'credentials-changed' }, 'refused once the credentials change, although the token was verified before')
  t.same(sessions.verifySecurityToken(issued.securityToken, generations), { ok: false, reason: 'credentials-changed' }, 'the security token alone too')
  t.same(replica.verify(issued.sessionToken, '', generations), { ok: false, reason: 'credentials-changed' }, 'and on the other replica')
  t.ok(sessions.verify(sessions.issue('crm', rotated).sessionToken, '', generations).ok, 'a session issued under the new generation is valid')
  current = first
  t.ok(sessions.verify(issued.sessionToken, '', generations).ok, 'the old generation back: valid again (the same credentials)')
  current = undefined
  t.ok(sessions.verify(issued.sessionToken, '', generations).ok, 'no such integration: left to the caller, which refuses the session as no longer configured')
  now += 61_000
  current = rotated
  t.same(sessions.verify(issued.sessionToken, '', generations), { ok: false, reason: 'expired' }, 'expiry is reported before the generation')
})

t.test('a token from before credential generations is refused as changed credentials', async t => {
  const now = Date.parse('2026-12-01T10:00:00Z')
  const sessions = new SessionTokens({ secret: SECRET, ttlSeconds: 60, now: () => now })
  // A version 1 token, as earlier releases signed it: the same key (docs/architecture.md#proxy-sessions), no `g`.
  const key = createSecretKey(Buffer.from(hkdfSync('sha256', SECRET, 'campaign-ims-proxy', 'session token v1', 32)))
  const payload = Buffer.from(JSON.stringify({ v: 1, i: 'crm', id: 'AAAAAAAAAAAAAAAAAAAAAA', iat: now, exp: now + 60_000 })).toString('base64url')
  const v1 = `___${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`
  t.ok(sessions.isProxyShaped(v1), 'proxy-shaped, so answered locally')
  t.same(sessions.verify(v1, '', CURRENT), { ok: false, reason: 'credentials-changed' }, 'its signature holds, but it names no generation: its client logs on again')
})

t.test('the longest integration name the configuration accepts still gives proxy-shaped tokens', async t => {
  const sessions = new SessionTokens({ secret: SECRET, ttlSeconds: 10 * 365 * 86_400, now: () => Date.parse('2200-01-01T00:00:00Z') })
  const issued = sessions.issue('n'.repeat(MAX_INTEGRATION_NAME_LENGTH), sessions.generation(['n']))
  t.ok(sessions.isProxyShaped(issued.sessionToken), 'the session token')
  t.ok(sessions.isProxyShaped(issued.securityToken), 'the security token')
  t.ok(sessions.verify(issued.sessionToken, issued.securityToken, () => issued.session.generation).ok, 'and they verify')
})
