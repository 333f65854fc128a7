// Reading IMS answers: success, expiry cross-check, malformed bodies, configuration errors, Retry-After.
import t from 'tap'
import { IMS_ERROR_CODES } from '../../src/ims/errors.js'
import { ImsConfigurationError, TokenUnavailableError } from '../../src/ims/token-provider.js'
import { interpretTokenResponse, jwtExpiresAt, MAX_RETRY_AFTER_SECONDS, parseRetryAfter } from '../../src/ims/token-response.js'
import { FakeIms, harness, jwt, MARKETING, rejectionOf, respond, SECRET, settle, T0 } from '../fixtures/ims-harness.js'

// Reading IMS token endpoint answers: success, JWT expiry cross-check, errors, Retry-After.

const read = (status: number, body: unknown, retryAfter: string | null = null) =>
  interpretTokenResponse({ status, retryAfter, body: typeof body === 'string' ? body : JSON.stringify(body), receivedAt: T0 })

t.test('a success without JWT claims expires expires_in seconds after it was received', async t => {
  t.strictSame(read(200, { access_token: 'abc', token_type: 'bearer', expires_in: 86_399 }),
    { ok: true, accessToken: 'abc', expiresAt: T0 + 86_399_000 }, 'expiry is receive time plus expires_in in ms')
})

t.test('the JWT created_at + expires_in (ms) wins when it is earlier', async t => {
  const token = jwt({ created_at: String(T0 - 3_600_000), expires_in: '86399000' })
  t.strictSame(read(200, { access_token: token, expires_in: 86_399 }),
    { ok: true, accessToken: token, expiresAt: T0 - 3_600_000 + 86_399_000 }, 'a token issued an hour ago expires an hour earlier')
})

t.test('a JWT expiry later than the receive-based one is ignored', async t => {
  const token = jwt({ created_at: String(T0 + 3_600_000), expires_in: '86399000' })
  t.strictSame(read(200, { access_token: token, expires_in: 86_399 }),
    { ok: true, accessToken: token, expiresAt: T0 + 86_399_000 }, 'the receive-based expiry stays')
})

t.test('malformed success bodies', async t => {
  const malformed = (message: string) => ({ ok: false, outcome: 'malformed', message, retryAfterMs: undefined })
  t.strictSame(read(200, '{"access_token":"eyJ'), malformed('the token response is not a JSON object'), 'truncated JSON is malformed')
  t.strictSame(read(200, '[1]'), malformed('the token response is not a JSON object'), 'a JSON array is malformed')
  t.strictSame(read(200, 'null'), malformed('the token response is not a JSON object'), 'JSON null is malformed')
  t.strictSame(read(200, { expires_in: 86_399 }), malformed('the token response has no access_token'), 'a missing access_token is malformed')
  t.strictSame(read(200, { access_token: '', expires_in: 86_399 }), malformed('the token response has no access_token'), 'an empty access_token is malformed')
  t.strictSame(read(200, { access_token: 42, expires_in: 86_399 }), malformed('the token response has no access_token'), 'a numeric access_token is malformed')
  t.strictSame(read(200, { access_token: 'abc' }), malformed('the token response has no positive expires_in'), 'a missing expires_in is malformed')
  t.strictSame(read(200, { access_token: 'abc', expires_in: '86399' }), malformed('the token response has no positive expires_in'), 'a string expires_in is malformed')
  t.strictSame(read(200, { access_token: 'abc', expires_in: 0 }), malformed('the token response has no positive expires_in'), 'a zero expires_in is malformed')
  t.strictSame(read(200, '{"access_token":"abc","expires_in":1e400}'), malformed('the token response has no positive expires_in'), 'an infinite expires_in is malformed')
})

t.test('invalid_client and invalid_scope on 4xx are configuration errors, without IMS\'s description', async t => {
  t.strictSame(read(401, { error: 'invalid_client', error_description: 'invalid client_secret parameter' }), {
    ok: false,
    outcome: 'config',
    message: 'IMS answered HTTP 401 invalid_client',
    retryAfterMs: undefined,
    imsError: 'invalid_client',
  }, 'a 401 invalid_client carries the code and the status, not error_description')
  t.strictSame(read(400, { error: 'invalid_scope', error_description: 'invalid scope (campaign_sdk)' }), {
    ok: false,
    outcome: 'config',
    message: 'IMS answered HTTP 400 invalid_scope',
    retryAfterMs: undefined,
    imsError: 'invalid_scope',
  }, 'a 400 invalid_scope likewise')
  t.strictSame(read(400, { error: 'invalid_client', error_description: 7 }), {
    ok: false,
    outcome: 'config',
    message: 'IMS answered HTTP 400 invalid_client',
    retryAfterMs: undefined,
    imsError: 'invalid_client',
  }, 'a description that is not a string changes nothing')
})

t.test('an error code OAuth 2.0 does not define is left out, whatever its shape', async t => {
  const unexpected = (status: number) => ({ ok: false, outcome: 'http_unexpected', message: `IMS answered HTTP ${status}`, retryAfterMs: undefined })
  t.strictSame(read(400, { error: SECRET }), unexpected(400), 'a code that is the client secret (it fits the characters of a code) is not repeated')
  t.strictSame(read(401, { error: `invalid_client ${SECRET}` }), unexpected(401), 'invalid_client followed by more text is not invalid_client')
  t.strictSame(read(400, { error: 'x'.repeat(10_240) }), unexpected(400), 'a 10 KB code is left out')
  t.strictSame(read(400, { error: 'not_found' }), unexpected(400), 'a short code outside the list is left out too')
  t.strictSame(read(503, { error: ['server_error'] }), { ok: false, outcome: 'http_5xx', message: 'IMS answered HTTP 503', retryAfterMs: undefined }, 'a code that is not a string is no code')
  t.strictSame(read(503, { error: 'temporarily_unavailable' }), { ok: false, outcome: 'http_5xx', message: 'IMS answered HTTP 503 temporarily_unavailable', retryAfterMs: undefined }, 'a listed code is kept')
  t.strictSame(IMS_ERROR_CODES.has('invalid_grant') && [...IMS_ERROR_CODES].every(code => /^[a-z_]{1,64}$/.test(code)), true, 'the listed codes are short lower-case identifiers')
})

t.test('other statuses are classified, with the IMS error code when given', async t => {
  t.strictSame(read(400, { error: 'unsupported_grant_type', error_description: 'x' }),
    { ok: false, outcome: 'http_unexpected', message: 'IMS answered HTTP 400 unsupported_grant_type', retryAfterMs: undefined },
    'another 4xx error is unexpected, not configuration')
  t.strictSame(read(404, 'not found'), { ok: false, outcome: 'http_unexpected', message: 'IMS answered HTTP 404', retryAfterMs: undefined }, 'a 404 is unexpected')
  t.strictSame(read(302, ''), { ok: false, outcome: 'http_unexpected', message: 'IMS answered HTTP 302', retryAfterMs: undefined }, 'a redirect is unexpected')
  t.strictSame(read(429, { error_code: '429050' }, '2'), { ok: false, outcome: 'http_429', message: 'IMS answered HTTP 429', retryAfterMs: 2000 }, 'a 429 carries Retry-After in ms')
  t.strictSame(read(503, 'busy', new Date(T0 + 30_000).toUTCString()),
    { ok: false, outcome: 'http_5xx', message: 'IMS answered HTTP 503', retryAfterMs: 30_000 }, 'a 503 honours an HTTP-date Retry-After')
  t.strictSame(read(500, { error: 'invalid_client' }), { ok: false, outcome: 'http_5xx', message: 'IMS answered HTTP 500 invalid_client', retryAfterMs: undefined },
    'invalid_client on a 5xx is a server error, not configuration')
})

t.test('jwtExpiresAt reads created_at + expires_in only when both are sane', async t => {
  t.equal(jwtExpiresAt(jwt({ created_at: '1000', expires_in: '2000' })), 3000, 'millisecond strings are added')
  t.equal(jwtExpiresAt(jwt({ created_at: 1000, expires_in: 2000 } as unknown as Record<string, string>)), 3000, 'integer numbers are accepted too')
  t.equal(jwtExpiresAt('opaque-token'), undefined, 'a token that is not a JWT has no claims')
  t.equal(jwtExpiresAt('a.bm90IGpzb24.c'), undefined, 'a payload that is not JSON has no claims')
  t.equal(jwtExpiresAt(jwt({ expires_in: '2000' })), undefined, 'without created_at there is no expiry')
  t.equal(jwtExpiresAt(jwt({ created_at: '1000' })), undefined, 'without expires_in there is no expiry')
  t.equal(jwtExpiresAt(jwt({ created_at: 'yesterday', expires_in: '2000' })), undefined, 'a non-numeric created_at is ignored')
  t.equal(jwtExpiresAt(jwt({ created_at: -5, expires_in: 2000 } as unknown as Record<string, string>)), undefined, 'a negative number is ignored')
  t.equal(jwtExpiresAt(jwt({ created_at: 1.5, expires_in: 2000 } as unknown as Record<string, string>)), undefined, 'a fractional number is ignored')
})

t.test('parseRetryAfter: seconds or HTTP-date, capped, never negative', async t => {
  const cap = MAX_RETRY_AFTER_SECONDS * 1000
  t.equal(parseRetryAfter(null, T0), undefined, 'no header, no minimum')
  t.equal(parseRetryAfter('2', T0), 2000, 'delay-seconds become ms')
  t.equal(parseRetryAfter(' 120 ', T0), 120_000, 'surrounding spaces are ignored')
  t.equal(parseRetryAfter('0', T0), 0, 'zero seconds is zero')
  t.equal(parseRetryAfter('86400', T0), cap, 'a day of seconds is capped')
  t.equal(parseRetryAfter(new Date(T0 + 45_000).toUTCString(), T0), 45_000, 'an HTTP-date is the time left until it')
  t.equal(parseRetryAfter(new Date(T0 - 45_000).toUTCString(), T0), 0, 'a date in the past means no wait')
  t.equal(parseRetryAfter(new Date(T0 + 7 * 86_400_000).toUTCString(), T0), cap, 'a date a week away is capped')
  t.equal(parseRetryAfter('soon', T0), undefined, 'an unreadable value is ignored')
})

// invalid_client / invalid_scope and unreadable secrets: configuration errors, retried at the max backoff, logged once.

const INVALID_CLIENT = respond(401, { error: 'invalid_client', error_description: 'invalid client_secret parameter' })
const INVALID_SCOPE = respond(400, { error: 'invalid_scope', error_description: 'invalid scope (campaign_sdk)' })

t.test('invalid_client rejects get() with ImsConfigurationError naming the account and the fix', async t => {
  const h = harness(t)
  h.ims.script(INVALID_CLIENT)
  const err = await rejectionOf(t, h.provider.get('marketing'))
  t.type(err, ImsConfigurationError, 'the caller gets an ImsConfigurationError')
  const error = err as ImsConfigurationError
  t.equal(error.name, 'ImsConfigurationError', 'its name identifies it without instanceof')
  t.equal(error.account, 'marketing', 'it names the account')
  t.equal(error.imsError, 'invalid_client', 'it carries the IMS error code')
  t.equal(error.detail, 'HTTP 401', 'and the HTTP status, not the IMS description')
  t.equal(error.retryAfterSeconds, 300, 'the next attempt is maxSeconds away')
  t.equal(error.message, 'IMS refused technical account "marketing" (HTTP 401 invalid_client): ' +
    'check technicalAccounts.marketing.clientId and technicalAccounts.marketing.clientSecret against the Developer Console credential',
  'the message says what to fix')
  t.strictSame(h.events, [{ account: 'marketing', outcome: 'config', durationMs: 0 }], 'the request is reported as a configuration error')
})

t.test('configuration errors retry at maxSeconds and are logged at error level once per distinct error', async t => {
  const h = harness(t)
  h.jitter.value = 0
  h.ims.script(INVALID_CLIENT, INVALID_CLIENT, INVALID_CLIENT, INVALID_SCOPE, INVALID_CLIENT, h.ims.ok(), INVALID_CLIENT)
  h.provider.start()
  await settle()
  const planned: number[] = []
  for (let i = 0; i < 5; i++) {
    const next = h.provider.status()[0]?.nextAttemptAt as number
    planned.push(next)
    await h.clock.advanceTo(next)
  }
  t.strictSame(planned.map(at => at - T0), [300_000, 600_000, 900_000, 1_200_000, 1_500_000],
    'every configuration error waits exactly 300 s, jitter or not')
  const errors = h.lines.filter(line => line.level === 'error')
  t.strictSame(errors.map(line => [line.msg, (line.obj['err'] as ImsConfigurationError).imsError]), [
    ['IMS configuration error: token requests will keep failing until it is fixed', 'invalid_client'],
    ['IMS configuration error: token requests will keep failing until it is fixed', 'invalid_scope'],
  ], 'invalid_client is logged once over four failures, and invalid_scope once')
  t.equal(h.lines.filter(line => line.msg === 'IMS configuration error persists').length, 3, 'the repeats are logged at debug level')
  t.equal(h.provider.current('marketing')?.value, FakeIms.tokenValue(1), 'the sixth request, after a fix, obtains a token')
  await h.clock.advanceTo(h.provider.status()[0]?.nextAttemptAt as number)
  t.equal(h.lines.filter(line => line.level === 'error').length, 3, 'the same error after a success is logged again')
  t.equal(h.provider.current('marketing')?.value, FakeIms.tokenValue(1), 'and the token already held keeps being served')
})

t.test('invalid_scope says to fix the scopes', async t => {
  const h = harness(t)
  h.ims.script(INVALID_SCOPE)
  const err = await rejectionOf(t, h.provider.get('marketing')) as ImsConfigurationError
  t.equal(err.message, 'IMS refused technical account "marketing" (HTTP 400 invalid_scope): ' +
    'make technicalAccounts.marketing.scopes match the scopes of the Developer Console credential', 'the message points at the scopes')
})

t.test('a missing secret file is a configuration error and sends nothing', async t => {
  const path = `${t.testdirName}/missing-secret`
  const h = harness(t, { accounts: [{ ...MARKETING, clientSecret: { kind: 'file', path } }] })
  const err = await rejectionOf(t, h.provider.get('marketing')) as ImsConfigurationError
  t.type(err, ImsConfigurationError, 'the caller gets an ImsConfigurationError')
  t.equal(err.imsError, 'secret_unreadable', 'the error code says the secret could not be read')
  t.equal(err.message, `the client secret of technical account "marketing" is unavailable (cannot read secret file ${path} (ENOENT)): ` +
    'make technicalAccounts.marketing.clientSecret a readable, non-empty file', 'the message names the account, the file and the fix')
  t.equal(h.ims.calls.length, 0, 'no token request was sent')
  t.equal(h.provider.status()[0]?.nextAttemptAt, T0 + 300_000, 'the file is tried again after maxSeconds')
})

t.test('an empty secret file is a configuration error too', async t => {
  const dir = t.testdir({ secret: '\n' })
  const h = harness(t, { accounts: [{ ...MARKETING, clientSecret: { kind: 'file', path: `${dir}/secret` } }] })
  const err = await rejectionOf(t, h.provider.get('marketing')) as ImsConfigurationError
  t.equal(err.detail, `secret file ${dir}/secret is empty`, 'the detail says the file is empty')
  t.equal(h.ims.calls.length, 0, 'no token request was sent')
})

t.test('a secret reader rejecting with something other than an Error is reported generically', async t => {
  const h = harness(t, { readSecret: () => Promise.reject(new Error('vault sealed')) })
  const sealed = await rejectionOf(t, h.provider.get('marketing')) as ImsConfigurationError
  t.equal(sealed.detail, 'vault sealed', 'an Error from the reader is its message')
  const odd = harness(t, { readSecret: () => Promise.reject(Object.assign(Object.create(null) as object, { code: 'EIO' })) })
  const err = await rejectionOf(t, odd.provider.get('marketing')) as ImsConfigurationError
  t.equal(err.detail, 'the secret could not be read', 'anything else gets a generic detail')
})

// Retry-After on 429 (and 5xx) is a minimum wait before the next token request.

t.test('429 with Retry-After in seconds delays the retry at least that long', async t => {
  const h = harness(t)
  h.ims.script(respond(429, { error_code: '429050' }, { 'retry-after': '120' }), h.ims.ok())
  h.provider.start()
  await settle()
  t.equal(h.provider.status()[0]?.nextAttemptAt, T0 + 120_000, 'the retry waits 120 s instead of the 0.75 s backoff')
  const err = await rejectionOf(t, h.provider.get('marketing'))
  t.type(err, TokenUnavailableError, 'a caller meanwhile gets TokenUnavailableError')
  t.equal((err as TokenUnavailableError).retryAfterSeconds, 120, 'it is told to come back in 120 s')
  t.equal((err as Error).message, 'no valid IMS token for technical account "marketing": IMS answered HTTP 429', 'the message names the account and the cause')
  await h.clock.advanceTo(T0 + 119_999)
  t.equal(h.ims.calls.length, 1, 'nothing is sent before Retry-After ends')
  await h.clock.advanceTo(T0 + 120_000)
  t.equal(h.ims.calls.length, 2, 'the retry is sent when it ends')
  t.equal(h.provider.current('marketing')?.value, FakeIms.tokenValue(1), 'and it obtains the token')
})

t.test('503 with an HTTP-date Retry-After delays the retry until that date', async t => {
  const h = harness(t)
  h.ims.script(respond(503, 'maintenance', { 'retry-after': new Date(T0 + 90_000).toUTCString() }))
  h.provider.start()
  await settle()
  t.equal(h.provider.status()[0]?.nextAttemptAt, T0 + 90_000, 'the retry is planned at the given date')
})

t.test('a Retry-After shorter than the backoff does not shorten it', async t => {
  const h = harness(t)
  h.ims.script(respond(429, { error_code: '429050' }, { 'retry-after': '0' }))
  h.provider.start()
  await settle()
  t.equal(h.provider.status()[0]?.nextAttemptAt, T0 + 750, 'the backoff of 0.75 s still applies')
})
