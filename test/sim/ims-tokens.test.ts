// TokenAuthority: issuing, and verify() ok / expired / revoked / tampered / malformed, on an injected clock.
import t from 'tap'
import { TokenAuthority, technicalAccountEmail } from '../../src/sim/ims-tokens.js'
import { CLIENT_ID, T0, decodeJwt, fakeClock, postToken, startIms, type TokenResponse } from './ims-helpers.js'

// One authority per file: RSA key generation is the slow part.
const clock = fakeClock()
const authority = new TokenAuthority({ now: clock.now })
t.beforeEach(() => clock.set(T0))

t.test('technicalAccountEmail: lower-case alphanumerics of the client id @techacct.adobe.com', async t => {
  t.equal(technicalAccountEmail('acme-campaign-client'), 'acmecampaignclient@techacct.adobe.com', 'dashes are dropped')
  t.equal(technicalAccountEmail('AB_12.cd'), 'ab12cd@techacct.adobe.com', 'case is folded, punctuation dropped')
})

t.test('issue: claims in Adobe units, token signed over header.payload', async t => {
  t.equal(authority.now(), T0, 'now() exposes the injected clock')
  const { token, claims } = authority.issue(CLIENT_ID, ['openid', 'campaign_sdk'], 3600)
  t.same(claims, {
    id: claims.id,
    type: 'access_token',
    client_id: CLIENT_ID,
    user_id: 'acmecampaignclient@techacct.adobe.com',
    as: 'ims-na1',
    aa_id: 'acmecampaignclient@techacct.adobe.com',
    scope: 'openid,campaign_sdk',
    created_at: String(T0),
    expires_in: '3600000',
  }, 'every claim, with created_at = clock ms and expires_in = seconds * 1000, both strings')
  t.match(claims.id, new RegExp(`^${T0}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}_ue1$`), 'id embeds the clock and a UUID')
  const decoded = decodeJwt(token)
  t.same(decoded.payload, claims, 'the JWT payload is exactly the returned claims')
  t.same(decoded.header, { alg: 'RS256', x5u: 'ims_na1-key-at-1.cer', kid: 'ims_na1-key-at-1', itt: 'at' }, 'the header says RS256')
  t.equal(Buffer.from(decoded.parts[2] ?? '', 'base64url').length, 256, 'the signature is 256 bytes: RSA-2048')
  t.not(authority.issue(CLIENT_ID, ['openid'], 3600).claims.id, claims.id, 'two tokens issued in the same millisecond have distinct ids')
})

t.test('verify: valid until created_at + expires_in, expired from that millisecond on', async t => {
  const { token, claims } = authority.issue(CLIENT_ID, ['openid'], 60)
  t.same(authority.verify(token), { ok: true, claims }, 'a fresh token is valid and verify returns its claims')
  clock.advance(59_999)
  t.same(authority.verify(token), { ok: true, claims }, 'still valid 1 ms before its lifetime ends')
  clock.advance(1)
  t.same(authority.verify(token), { ok: false, reason: 'expired' }, 'expired exactly 60 000 ms after created_at')
  clock.advance(86_400_000)
  t.same(authority.verify(token), { ok: false, reason: 'expired' }, 'and stays expired')
})

t.test('verify: revoked tokens are refused before expiry, others are unaffected', async t => {
  const revoked = authority.issue(CLIENT_ID, ['openid'], 60).token
  const kept = authority.issue(CLIENT_ID, ['openid'], 60).token
  authority.revoke(revoked)
  t.same(authority.verify(revoked), { ok: false, reason: 'revoked' }, 'a revoked token is refused as revoked')
  t.equal(authority.verify(kept).ok, true, 'revoking one token leaves another valid')
  clock.advance(60_000)
  t.same(authority.verify(revoked), { ok: false, reason: 'revoked' }, 'revocation is reported even once it would have expired')
})

t.test('verify: tampering breaks the signature', async t => {
  const { token } = authority.issue(CLIENT_ID, ['openid'], 60)
  const [header, payload, signature] = token.split('.') as [string, string, string]
  const claims = decodeJwt(token).payload
  const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'openid,campaign_sdk' })).toString('base64url')
  t.same(authority.verify(`${header}.${widened}.${signature}`), { ok: false, reason: 'signature' }, 'a payload with a widened scope fails the signature check')
  const flipped = Buffer.from(signature, 'base64url')
  flipped[0] = (flipped[0] as number) ^ 0xff
  t.same(authority.verify(`${header}.${payload}.${flipped.toString('base64url')}`), { ok: false, reason: 'signature' }, 'a flipped signature byte is refused')
  t.same(authority.verify(`${header}.${payload}.`), { ok: false, reason: 'signature' }, 'an empty signature is refused')
  const other = new TokenAuthority({ now: clock.now })
  t.same(other.verify(token), { ok: false, reason: 'signature' }, 'another authority (another key) does not accept the token')
})

t.test('verify: malformed tokens', async t => {
  t.same(authority.verify(''), { ok: false, reason: 'malformed' }, 'an empty string is malformed')
  t.same(authority.verify('not-a-jwt'), { ok: false, reason: 'malformed' }, 'a single segment is malformed')
  t.same(authority.verify('a.b'), { ok: false, reason: 'malformed' }, 'two segments are malformed')
  const { token } = authority.issue(CLIENT_ID, ['openid'], 60)
  t.same(authority.verify(`${token}.extra`), { ok: false, reason: 'malformed' }, 'four segments are malformed')
})

t.test('defaults: wall clock and the ims-na1 region; the region is configurable', async t => {
  const before = Date.now()
  const real = new TokenAuthority()
  const now = real.now()
  t.ok(now >= before && now <= Date.now(), 'without `now` the authority reads the wall clock')
  const eu = new TokenAuthority({ now: clock.now, region: 'ims-eu1' })
  const { token, claims } = eu.issue(CLIENT_ID, ['openid'], 60)
  t.equal(claims.as, 'ims-eu1', 'the region option sets the `as` claim')
  t.equal(eu.verify(token).ok, true, 'and the token verifies with that authority')
})

t.test('through the simulator: its `now` option drives issuing and verification', async t => {
  const simClock = fakeClock(T0 + 1_000)
  const sim = await startIms(t, { now: simClock.now, expiresInSeconds: 30 })
  const { access_token: token } = await (await postToken(sim)).json() as TokenResponse
  t.equal(decodeJwt(token).payload.created_at, String(T0 + 1_000), 'created_at is the simulator clock')
  t.equal(sim.authority.verify(token).ok, true, 'valid when issued')
  simClock.advance(30_000)
  t.same(sim.authority.verify(token), { ok: false, reason: 'expired' }, 'expired once 30 s of injected time have passed')
})

t.test('through the simulator: a shared authority verifies what the simulator issued, and revokes it', async t => {
  const sim = await startIms(t, { authority })
  t.equal(sim.authority, authority, 'the simulator uses the authority it was given')
  const { access_token: token } = await (await postToken(sim)).json() as TokenResponse
  t.equal(authority.verify(token).ok, true, 'the shared authority accepts the issued token')
  authority.revoke(token)
  t.same(authority.verify(token), { ok: false, reason: 'revoked' }, 'revoking in the shared authority invalidates it')
})
