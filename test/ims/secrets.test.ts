// Secrets: the request form, re-reading secret files, cache keys per credential, and logs free of secrets and tokens.
import { writeFile } from 'node:fs/promises'
import t from 'tap'
import { type AccessToken, ImsConfigurationError, SECRET_HASH_LENGTH, tokenCacheKey } from '../../src/ims/token-provider.js'
import { tokenRequestBody } from '../../src/ims/transport.js'
import { failWith, FakeIms, harness, IMS, MARKETING, rejectionOf, respond, SECRET, T0 } from '../fixtures/ims-harness.js'

// Secrets are read on every request; a new secret means a new cache key and a request carrying it.

t.test('the form body is exactly the client_credentials grant, scopes comma-joined', async t => {
  const h = harness(t)
  h.ims.script(h.ims.ok())
  await h.provider.get('marketing')
  const call = h.ims.calls[0]
  t.equal(call?.request.tokenUrl, IMS.tokenUrl, 'the request goes to ims.tokenUrl')
  t.equal(call?.request.clientId, 'marketing-client-id', 'it carries the client id')
  t.equal(call?.request.clientSecret, SECRET, 'it carries the secret read for this request')
  t.strictSame(call?.request.scopes, ['AdobeID', 'openid', 'campaign_sdk'], 'it carries the configured scopes')
  t.equal(call?.form, `grant_type=client_credentials&client_id=marketing-client-id&client_secret=${SECRET}&scope=AdobeID%2Copenid%2Ccampaign_sdk`,
    'the form has the four fields in order, the scopes joined by commas')
  t.strictSame(Object.fromEntries(new URLSearchParams(tokenRequestBody({ clientId: 'a b', clientSecret: 's&=+', scopes: ['x'] }))),
    { grant_type: 'client_credentials', client_id: 'a b', client_secret: 's&=+', scope: 'x' }, 'reserved characters survive the encoding')
})

t.test('the cache key hashes client id and secret', async t => {
  const key = tokenCacheKey('marketing', 'marketing-client-id', 'old-secret')
  t.match(key, new RegExp(`^marketing:[0-9a-f]{${SECRET_HASH_LENGTH}}$`), 'the key is the account and 16 hex characters')
  t.equal(key.includes('old-secret'), false, 'the key does not contain the secret')
  t.equal(tokenCacheKey('marketing', 'marketing-client-id', 'old-secret'), key, 'the same credential gives the same key')
  t.not(tokenCacheKey('marketing', 'marketing-client-id', 'new-secret'), key, 'a new secret gives a new key')
  t.not(tokenCacheKey('marketing', 'marketing-client-idold', '-secret'), key, 'the NUL separator keeps id and secret apart')
})

t.test('a secret file replaced on disk is used by the next request', async t => {
  const dir = t.testdir({ secret: 'old-secret\n' })
  const h = harness(t, { accounts: [{ ...MARKETING, clientSecret: { kind: 'file', path: `${dir}/secret` } }] })
  h.ims.script(h.ims.ok(), h.ims.ok(), h.ims.ok())
  const first = await h.provider.get('marketing')
  t.equal(h.ims.calls[0]?.request.clientSecret, 'old-secret', 'the first request used the file content without its newline')
  h.provider.invalidate('marketing', first)
  const second = await h.provider.get('marketing')
  t.equal(h.ims.calls[1]?.request.clientSecret, 'old-secret', 'an unchanged file gives the same secret')

  await writeFile(`${dir}/secret`, 'new-secret\r\n')
  h.provider.invalidate('marketing', second)
  const third = await h.provider.get('marketing')
  t.equal(h.ims.calls[2]?.request.clientSecret, 'new-secret', 'the request after the change used the new secret')
  t.equal(third.value, FakeIms.tokenValue(3), 'its token is served')
  const obtained = h.lines.filter(line => line.msg === 'IMS token obtained').map(line => line.obj['isNewSecret'])
  t.strictSame(obtained, [false, false, true], 'only the token of the new secret is logged as stored under a new key')
})

// No log line, error or status ever carries a secret or a token value; fingerprints only.

function serialize (value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => v instanceof Error ? { ...v, name: v.name, message: v.message, stack: v.stack, cause: v.cause } : v)
}

t.test('a full life of successes, failures and configuration errors logs no secret and no token', async t => {
  const h = harness(t)
  h.jitter.value = 0
  const invalidClient = respond(401, { error: 'invalid_client', error_description: 'invalid client_secret parameter' })
  h.ims.script(h.ims.ok(), respond(503, 'down'), failWith(new TypeError('fetch failed')), invalidClient, h.ims.ok())
  const tokens: AccessToken[] = [await h.provider.get('marketing')]
  await h.clock.advanceTo(T0 + 69_119_200)
  await h.clock.advanceTo(h.provider.status()[0]?.nextAttemptAt as number)
  await h.clock.advanceTo(h.provider.status()[0]?.nextAttemptAt as number)
  await h.clock.advanceTo(h.provider.status()[0]?.nextAttemptAt as number)
  tokens.push(h.provider.current('marketing') as AccessToken)
  h.provider.invalidate('marketing', tokens[1] as AccessToken)

  const bad = harness(t, { accounts: [{ ...MARKETING, clientSecret: { kind: 'value', value: 'wrong-secret' } }] })
  bad.ims.script(respond(401, { error: 'invalid_client', error_description: 'invalid client_secret parameter' }))
  const err = await rejectionOf(t, bad.provider.get('marketing'))
  t.type(err, ImsConfigurationError, 'the wrong secret is a configuration error')

  const levels = new Set([...h.lines, ...bad.lines].map(line => line.level))
  t.strictSame([...levels].sort(), ['debug', 'error', 'info', 'warn'], 'every log level was exercised')
  const everything = serialize({ lines: [...h.lines, ...bad.lines], err, status: [h.provider.status(), bad.provider.status()] })
  for (const secret of [SECRET, 'wrong-secret']) {
    t.equal(everything.includes(secret), false, `the secret ${secret.slice(0, 3)}... appears nowhere`)
  }
  t.equal(tokens[0]?.value === tokens[1]?.value, false, 'two distinct tokens were issued')
  for (const token of tokens) {
    t.equal(everything.includes(token.value), false, `token ${token.fingerprint} appears nowhere`)
    t.equal(everything.includes(token.fingerprint), true, `its fingerprint ${token.fingerprint} is logged`)
  }
})
