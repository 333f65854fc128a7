// The configuration-derived routing: a reload with the same session secret
// keeps the Logoff revocations, even when the session lifetime changes; a
// session stays valid only while its integration's credentials do.
import t from 'tap'
import { parseConfig } from '../../src/config/load.js'
import type { Config } from '../../src/config/types.js'
import { generationOf, rememberedSessions, routingOf, type Routing } from '../../src/proxy/routing.js'
import { HASH } from '../fixtures/config.js'

const SECRET = 'routing-test-secret-0123456789abcdefghij'
const OTHER_HASH = 'scrypt$N=1024,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$PxhAoKNxvNJQ8B6J5WM12-N3xvO9tSDzlVpAJtmFYOI'
const configWith = (ttlSeconds: number, integrations = `  - { name: crm, login: crm_op, passwordHash: "${HASH}", technicalAccount: marketing }`): Config => parseConfig(`
campaign: { url: 'http://127.0.0.1:9' }
technicalAccounts:
  marketing: { clientId: c, clientSecret: s, scopes: [AdobeID] }
  events: { clientId: e, clientSecret: s, scopes: [AdobeID] }
sessions: { secret: ${SECRET}, ttlSeconds: ${ttlSeconds} }
integrations:
${integrations}
`, { source: 'test', env: {} })

/** A session of the integration `name` of `routing`, as a Logon answered there issues it. */
function logon (routing: Routing, name = 'crm'): ReturnType<Routing['sessions']['issue']> {
  return routing.sessions.issue(name, generationOf(routing.sessions, routing.identity.byName.get(name) as Config['integrations'][number]))
}

t.test('a logged-off session stays refused across reloads with the same secret', async t => {
  const now = (): number => Date.parse('2026-12-01T10:00:00Z')
  const remembered = rememberedSessions(now)
  const first = routingOf(configWith(3600), SECRET, remembered, now)
  const issued = logon(first)
  first.sessions.revoke(issued.session)
  const sameTtl = routingOf(configWith(3600), SECRET, remembered, now, first)
  t.equal(sameTtl.sessions, first.sessions, 'nothing changed for sessions: the same instance')
  const longer = routingOf(configWith(7200), SECRET, remembered, now, sameTtl)
  t.not(longer.sessions, first.sessions, 'a new lifetime: new session tokens')
  t.same(longer.identity.verifySession(issued.sessionToken, ''), { ok: false, reason: 'revoked' }, 'the Logoff still holds')
  const rotated = routingOf(configWith(7200), `${SECRET}-rotated`, remembered, now, longer)
  t.same(rotated.identity.verifySession(issued.sessionToken, ''), { ok: false, reason: 'signature' }, 'a new secret refuses every earlier session anyway')
})

t.test("a session is valid only while its integration's credentials are those it was issued under", async t => {
  const now = (): number => Date.parse('2026-12-01T10:00:00Z')
  const remembered = rememberedSessions(now)
  const first = routingOf(configWith(3600), SECRET, remembered, now)
  const issued = logon(first)
  t.ok(first.identity.verifySession(issued.sessionToken, issued.securityToken).ok, 'valid where it was issued')
  const unchanged = routingOf(configWith(3600), SECRET, remembered, now, first)
  t.ok(unchanged.identity.verifySession(issued.sessionToken, issued.securityToken).ok, 'an unchanged reload keeps it')
  t.ok(routingOf(configWith(3600), SECRET, rememberedSessions(now), now).identity.verifySession(issued.sessionToken, '').ok, 'so does another replica with the same secret and configuration')
  const changes: ReadonlyArray<readonly [string, string]> = [
    ['a new passwordHash', `  - { name: crm, login: crm_op, passwordHash: "${OTHER_HASH}", technicalAccount: marketing }`],
    ['another login', `  - { name: crm, login: crm_operator, passwordHash: "${HASH}", technicalAccount: marketing }`],
    ['another technical account', `  - { name: crm, login: crm_op, passwordHash: "${HASH}", technicalAccount: events }`],
    ['the name given to a network integration', '  - { name: crm, networks: [10.0.0.0/8], technicalAccount: marketing }'],
  ]
  for (const [what, integrations] of changes) {
    const next = routingOf(configWith(3600, integrations), SECRET, remembered, now, first)
    t.equal(next.sessions, first.sessions, `${what}: the same session tokens (the check is not a new secret's)`)
    t.same(next.identity.verifySession(issued.sessionToken, issued.securityToken), { ok: false, reason: 'credentials-changed' }, `${what}: the session is refused`)
    t.same(next.identity.verifySecurityToken(issued.securityToken), { ok: false, reason: 'credentials-changed' }, `${what}: its security token alone too`)
    t.ok(next.identity.verifySession(logon(next).sessionToken, '').ok, `${what}: a new Logon's session is valid`)
  }
  const others = routingOf(configWith(3600, `  - { name: crm, login: crm_op, passwordHash: "${HASH}", technicalAccount: marketing }
  - { name: mc, login: mc, passwordHash: "${OTHER_HASH}", technicalAccount: events }`), SECRET, remembered, now, first)
  t.ok(others.identity.verifySession(issued.sessionToken, '').ok, 'another integration added or changed: this one\'s sessions are not affected')
})
