// The configuration-derived routing: a reload with the same session secret
// keeps the Logoff revocations, even when the session lifetime changes.
import t from 'tap'
import { parseConfig } from '../../src/config/load.js'
import { rememberedSessions, routingOf } from '../../src/proxy/routing.js'
import { HASH } from '../fixtures/config.js'

const SECRET = 'routing-test-secret-0123456789abcdefghij'
const configWith = (ttlSeconds: number): ReturnType<typeof parseConfig> => parseConfig(`
campaign: { url: 'http://127.0.0.1:9' }
technicalAccounts:
  marketing: { clientId: c, clientSecret: s, scopes: [AdobeID] }
sessions: { secret: ${SECRET}, ttlSeconds: ${ttlSeconds} }
integrations:
  - { name: crm, login: crm_op, passwordHash: "${HASH}", technicalAccount: marketing }
`, { source: 'test', env: {} })

t.test('a logged-off session stays refused across reloads with the same secret', async t => {
  const now = (): number => Date.parse('2026-12-01T10:00:00Z')
  const remembered = rememberedSessions(now)
  const first = routingOf(configWith(3600), SECRET, remembered, now)
  const issued = first.sessions.issue('crm')
  first.sessions.revoke(issued.session)
  const sameTtl = routingOf(configWith(3600), SECRET, remembered, now, first)
  t.equal(sameTtl.sessions, first.sessions, 'nothing changed for sessions: the same instance')
  const longer = routingOf(configWith(7200), SECRET, remembered, now, sameTtl)
  t.not(longer.sessions, first.sessions, 'a new lifetime: new session tokens')
  t.same(longer.sessions.verify(issued.sessionToken), { ok: false, reason: 'revoked' }, 'the Logoff still holds')
  const rotated = routingOf(configWith(7200), `${SECRET}-rotated`, remembered, now, longer)
  t.same(rotated.sessions.verify(issued.sessionToken), { ok: false, reason: 'signature' }, 'a new secret refuses every earlier session anyway')
})
