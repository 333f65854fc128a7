// When the provider asks IMS: refresh point, backoff on every failure, expiry minus skew, serving through failed refreshes.
import t from 'tap'
import { backoffDelayMs, REFRESH_JITTER_RATIO, refreshAt } from '../../src/ims/schedule.js'
import { tokenFingerprint, type TokenResponseLike, TokenUnavailableError } from '../../src/ims/token-provider.js'
import { type Call, EXPIRES_IN, failWith, FakeIms, harness, IMS, jwt, LIFETIME_MS, rejectionOf, respond, settle, T0 } from '../fixtures/ims-harness.js'

// Pure scheduling arithmetic: capped exponential backoff with equal jitter, and the refresh point.

const BACKOFF = { initialSeconds: 1, maxSeconds: 300 }

t.test('backoff doubles from initialSeconds and stops at maxSeconds', async t => {
  const ceilings = Array.from({ length: 11 }, (_, i) => backoffDelayMs(i + 1, BACKOFF, () => 1))
  t.strictSame(ceilings, [1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000],
    'with the largest jitter the delays are 1, 2, 4 ... 256 s, then 300 s')
  t.equal(backoffDelayMs(2000, BACKOFF, () => 1), 300_000, 'an absurd failure count stays capped')
})

t.test('equal jitter keeps at least half of the delay', async t => {
  t.equal(backoffDelayMs(3, BACKOFF, () => 0), 2000, 'with no jitter the third delay is half of 4 s')
  t.equal(backoffDelayMs(3, BACKOFF, () => 0.5), 3000, 'with half jitter it is three quarters of 4 s')
  t.equal(backoffDelayMs(10, BACKOFF, () => 0), 150_000, 'at the cap the shortest delay is half of maxSeconds')
})

t.test('refresh point: refreshRatio of the lifetime minus up to 5 % of it', async t => {
  const plan = { obtainedAt: 0, expiresAt: 100_000, refreshRatio: 0.8, expirySkewMs: 1000 }
  t.equal(REFRESH_JITTER_RATIO, 0.05, 'the jitter is 5 % of the lifetime')
  t.equal(refreshAt(plan, () => 0), 80_000, 'without jitter the refresh is at 80 %')
  t.equal(refreshAt(plan, () => 0.999), 75_005, 'with the largest jitter it is just after 75 %')
  t.equal(refreshAt({ ...plan, refreshRatio: 1 }, () => 0), 99_000, 'it is never later than expiry minus the skew')
})

// Background refresh: when it is scheduled (ratio, jitter, expiry - skew) and what it replaces.

t.test('the first token is refreshed at 80 % of its lifetime when jitter is zero', async t => {
  const h = harness(t)
  h.jitter.value = 0
  h.ims.script(h.ims.ok())
  h.provider.start()
  await settle()
  t.strictSame(h.provider.current('marketing'), {
    value: FakeIms.tokenValue(1),
    account: 'marketing',
    obtainedAt: T0,
    expiresAt: T0 + LIFETIME_MS,
    fingerprint: tokenFingerprint(FakeIms.tokenValue(1)),
  }, 'the token is held with its receive time, expiry and fingerprint')
  t.equal(h.provider.status()[0]?.nextAttemptAt, T0 + 69_119_200, 'the refresh is planned at 80 % of 86,399 s')
  t.strictSame(h.clock.pending(), [T0 + 69_119_200], 'the only pending timer is that refresh')
})

t.test('jitter takes up to 5 % of the lifetime off the refresh point', async t => {
  const h = harness(t)
  h.jitter.value = 0.9999
  h.ims.script(h.ims.ok())
  h.provider.start()
  await settle()
  t.equal(h.provider.status()[0]?.nextAttemptAt, T0 + 64_799_682, 'the largest jitter moves the refresh to just after 75 %')
})

t.test('the refresh replaces the token; the old one is served until the new one arrives', async t => {
  const h = harness(t)
  h.jitter.value = 0
  h.ims.script(h.ims.ok())
  h.provider.start()
  await settle()
  await h.clock.advanceTo(T0 + 69_119_200)
  t.equal(h.ims.calls.length, 2, 'the refresh sent a second token request')
  t.equal(h.provider.current('marketing')?.value, FakeIms.tokenValue(1), 'the first token is still served while the refresh is in flight')
  h.ims.calls[1]?.resolve(h.ims.tokenResponse())
  await settle()
  t.strictSame(h.provider.current('marketing'), {
    value: FakeIms.tokenValue(2),
    account: 'marketing',
    obtainedAt: T0 + 69_119_200,
    expiresAt: T0 + 69_119_200 + LIFETIME_MS,
    fingerprint: tokenFingerprint(FakeIms.tokenValue(2)),
  }, 'the refreshed token replaces it')
  t.equal(h.provider.status()[0]?.nextAttemptAt, T0 + 2 * 69_119_200, 'the next refresh is planned from the new token')
})

t.test('the refresh is never later than expiry minus the skew', async t => {
  const h = harness(t, { ims: { ...IMS, refreshRatio: 0.8, expirySkewSeconds: 60 } })
  h.jitter.value = 0
  h.ims.script(h.ims.ok({ expiresIn: 100 }))
  h.provider.start()
  await settle()
  t.equal(h.provider.current('marketing')?.expiresAt, T0 + 100_000, 'the short token expires after 100 s')
  t.equal(h.provider.status()[0]?.nextAttemptAt, T0 + 40_000, 'the refresh is at expiry minus 60 s, not at 80 s')
})

t.test('a JWT issued earlier than it arrived expires, and is refreshed, earlier', async t => {
  const h = harness(t)
  h.jitter.value = 0
  h.ims.script(h.ims.ok({ createdAt: T0 - 600_000, jwtLifetimeMs: LIFETIME_MS }))
  h.provider.start()
  await settle()
  const token = h.provider.current('marketing')
  t.equal(token?.value, jwt({ id: 'token-1', created_at: String(T0 - 600_000), expires_in: String(EXPIRES_IN * 1000) }), 'the token carries its JWT claims')
  t.equal(token?.expiresAt, T0 - 600_000 + LIFETIME_MS, 'expiry is the JWT created_at + expires_in')
  t.equal(h.provider.status()[0]?.nextAttemptAt, T0 + 0.8 * (LIFETIME_MS - 600_000), 'the refresh is at 80 % of the remaining lifetime')
})

// Failures of every class: capped exponential backoff with jitter, classified for metrics.

t.test('consecutive failures back off 1, 2, 4 ... s up to maxSeconds, with equal jitter', async t => {
  const h = harness(t)
  h.jitter.value = 0.5
  h.provider.start()
  const delays: number[] = []
  for (let failure = 1; failure <= 11; failure++) {
    await settle()
    h.ims.calls[failure - 1]?.reject(new TypeError('fetch failed'))
    await settle()
    const next = h.provider.status()[0]?.nextAttemptAt as number
    delays.push(next - h.clock.now)
    await h.clock.advanceTo(next)
  }
  t.strictSame(delays, [750, 1500, 3000, 6000, 12_000, 24_000, 48_000, 96_000, 192_000, 225_000, 225_000],
    'each delay is three quarters of min(300, 2^(n-1)) s with jitter 0.5')
  t.equal(h.ims.calls.length, 12, 'one request per attempt: the first plus eleven retries')
  t.equal(h.provider.status()[0]?.consecutiveFailures, 11, 'the failures are counted')
  h.ims.calls[11]?.resolve(h.ims.tokenResponse())
  await settle()
  t.equal(h.provider.status()[0]?.consecutiveFailures, 0, 'a success resets the count')
  t.equal(h.provider.status()[0]?.lastError, undefined, 'and clears the last error')
})

const brokenBody: (call: Call) => void = call => {
  const response: TokenResponseLike = {
    status: 200,
    headers: new Headers(),
    text: () => Promise.reject(new TypeError('terminated', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) })),
  }
  call.resolve(response)
}

const classes: Array<{ name: string, answer: (call: Call) => void, outcome: string, lastError: string }> = [
  {
    name: 'a network error',
    answer: failWith(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) })),
    outcome: 'network',
    lastError: 'the token request to IMS failed (ECONNREFUSED)',
  },
  { name: 'a rejection that is not an Error', answer: failWith('socket hang up'), outcome: 'network', lastError: 'the token request to IMS failed' },
  { name: 'a body cut off mid-read', answer: brokenBody, outcome: 'network', lastError: 'the token request to IMS failed (UND_ERR_SOCKET)' },
  { name: 'HTTP 503', answer: respond(503, 'Service Unavailable'), outcome: 'http_5xx', lastError: 'IMS answered HTTP 503' },
  { name: 'HTTP 429 without Retry-After', answer: respond(429, { error_code: '429050' }), outcome: 'http_429', lastError: 'IMS answered HTTP 429' },
  { name: 'a malformed body', answer: respond(200, '{"access_token":"eyJ'), outcome: 'malformed', lastError: 'the token response is not a JSON object' },
  {
    name: 'an unexpected 4xx',
    answer: respond(400, { error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials' }),
    outcome: 'http_unexpected',
    lastError: 'IMS answered HTTP 400 unsupported_grant_type',
  },
  {
    name: 'a token that expires within the skew',
    answer: respond(200, { access_token: 'short-lived', expires_in: 30 }),
    outcome: 'malformed',
    lastError: 'IMS returned a token that expires within the expiry skew',
  },
]

for (const { name, answer, outcome, lastError } of classes) {
  t.test(`${name} is a failure retried with backoff`, async t => {
    const h = harness(t)
    h.ims.script(answer)
    h.provider.start()
    await settle()
    t.strictSame(h.events, [{ account: 'marketing', outcome, durationMs: 0 }], `the request is reported as ${outcome}`)
    t.strictSame(h.provider.status(), [{
      account: 'marketing',
      hasToken: false,
      expiresAt: undefined,
      fingerprint: undefined,
      lastError,
      consecutiveFailures: 1,
      nextAttemptAt: T0 + 750,
      isFetching: false,
    }], 'the status shows the error and the first retry 0.75 s later')
    t.strictSame(h.lines.filter(line => line.level === 'warn').map(line => line.msg), ['IMS token request failed'], 'one warning is logged')
    await h.clock.advanceTo(T0 + 750)
    t.equal(h.ims.calls.length, 2, 'the retry is sent when the backoff ends')
  })
}

t.test('a request IMS does not answer within timeoutSeconds is aborted and retried', async t => {
  const h = harness(t)
  h.provider.start()
  await settle()
  const signal = h.ims.calls[0]?.request.signal
  t.equal(signal?.aborted, false, 'the request signal starts live')
  await h.clock.advance(10_000)
  t.equal(signal?.aborted, true, 'the signal is aborted after 10 s')
  t.strictSame(h.events, [{ account: 'marketing', outcome: 'network', durationMs: 10_000 }], 'the timeout is a network failure that took 10 s')
  t.equal(h.provider.status()[0]?.lastError, 'the token request did not complete within 10 s', 'the error says how long IMS was given')
  t.equal(h.provider.status()[0]?.nextAttemptAt, T0 + 10_750, 'the retry follows the backoff')
  h.ims.calls[0]?.resolve(h.ims.tokenResponse())
  await settle()
  t.equal(h.provider.current('marketing'), undefined, 'an answer arriving after the timeout is ignored')
})

t.test('a timeout while the secret is being read sends no request', async t => {
  let release: (secret: string) => void = () => {}
  const h = harness(t, { readSecret: () => new Promise(resolve => { release = resolve }) })
  h.provider.start()
  await h.clock.advance(10_000)
  t.equal(h.provider.status()[0]?.lastError, 'the token request did not complete within 10 s', 'the slow secret read timed out')
  release('late-secret')
  await settle()
  t.equal(h.ims.calls.length, 0, 'nothing was sent with the late secret')
})

// A failed refresh keeps the valid token flowing and retries with backoff.

t.test('a refresh failing with 503 keeps serving the current token and retries', async t => {
  const h = harness(t)
  h.jitter.value = 0
  h.ims.script(h.ims.ok(), respond(503, 'down'), respond(503, 'down'), h.ims.ok())
  const first = await h.provider.get('marketing')
  await h.clock.advanceTo(T0 + 69_119_200)
  t.equal(h.provider.current('marketing'), first, 'the current token is still served after the failed refresh')
  t.equal(await h.provider.get('marketing'), first, 'get() returns it at once')
  t.equal(h.provider.isReady(), true, 'the provider stays ready')
  const warning = h.lines.find(line => line.level === 'warn')
  t.strictSame(warning, {
    level: 'warn',
    msg: 'IMS token refresh failed, still serving the current token',
    obj: {
      account: 'marketing',
      outcome: 'http_5xx',
      err: warning?.obj['err'],
      consecutiveFailures: 1,
      retryInSeconds: 1,
      fingerprint: first.fingerprint,
    },
  }, 'the warning names the account, the failure and the fingerprint of the token kept')
  t.equal((warning?.obj['err'] as Error).message, 'IMS answered HTTP 503', 'the logged error says what IMS answered')
  t.equal(h.provider.status()[0]?.nextAttemptAt, T0 + 69_119_200 + 500, 'the first retry follows the backoff (0.5 s with no jitter)')
  await h.clock.advanceTo(T0 + 69_119_200 + 500 + 1000)
  t.equal(h.ims.calls.length, 4, 'two retries were sent, 0.5 s then 1 s apart')
  t.equal(h.provider.current('marketing')?.value, FakeIms.tokenValue(2), 'the second retry brought a new token')
  t.equal(h.provider.status()[0]?.consecutiveFailures, 0, 'the failure count is reset')
})

// A token past expiry minus the skew is never served; callers wait for the next request or get TokenUnavailableError.

const EXPIRY_MINUS_SKEW = T0 + LIFETIME_MS - 60_000

t.test('when refreshes keep failing, the token stops being served at expiry minus the skew', async t => {
  const h = harness(t, { ims: { ...IMS, backoff: { initialSeconds: 600, maxSeconds: 600 } } })
  h.jitter.value = 0
  h.ims.script(h.ims.ok()).otherwise(respond(503, 'down'))
  h.provider.start()
  await settle()
  await h.clock.advanceTo(EXPIRY_MINUS_SKEW)
  t.equal(h.provider.current('marketing')?.value, FakeIms.tokenValue(1), 'the token is served up to expiry minus 60 s')
  t.equal(h.provider.isReady(), true, 'the provider is still ready then')
  await h.clock.advance(1)
  t.equal(h.provider.current('marketing'), undefined, 'one millisecond later it is not served')
  t.equal(h.provider.isReady(), false, 'and the provider is not ready')
  t.equal(h.provider.status()[0]?.hasToken, false, 'the status says there is no token')
  // Retries every 300 s from the refresh at T0 + 69,119,200: the next one is at T0 + 86,519,200.
  t.equal(h.provider.status()[0]?.nextAttemptAt, T0 + 86_519_200, 'the next retry is still planned')
  const err = await rejectionOf(t, h.provider.get('marketing'))
  t.type(err, TokenUnavailableError, 'a caller gets TokenUnavailableError')
  t.equal((err as TokenUnavailableError).retryAfterSeconds, 181, 'it is told to retry when the next request is due, in whole seconds')
  t.equal((err as TokenUnavailableError).account, 'marketing', 'it names the account')
  t.equal(h.ims.calls.length, 59, 'the caller caused no extra request during the backoff')

  h.ims.otherwise(h.ims.ok())
  const waiting = h.provider.get('marketing', { waitMs: 200_000 })
  await h.clock.advanceTo(T0 + 86_519_200)
  t.equal((await waiting).value, FakeIms.tokenValue(2), 'a caller willing to wait past the next retry gets its token')
})

t.test('a caller waits through retries that fit in its wait, and is told when the next one no longer fits', async t => {
  const h = harness(t)
  h.ims.otherwise(respond(503, 'down'))
  const waiting = rejectionOf(t, h.provider.get('marketing', { waitMs: 10_000 }))
  await h.clock.advanceTo(T0 + 5250)
  const err = await waiting
  t.equal(h.ims.calls.length, 4, 'it waited through the requests at 0, 0.75, 2.25 and 5.25 s')
  t.type(err, TokenUnavailableError, 'then it gets TokenUnavailableError')
  t.equal((err as TokenUnavailableError).retryAfterSeconds, 6, 'the next request, at 11.25 s, is 6 s away')
})

t.test('a caller whose wait ends while IMS is still answering is told to retry in 1 s', async t => {
  const h = harness(t)
  const waiting = rejectionOf(t, h.provider.get('marketing', { waitMs: 2000 }))
  await h.clock.advance(2000)
  const err = await waiting as TokenUnavailableError
  t.type(err, TokenUnavailableError, 'the caller gets TokenUnavailableError')
  t.equal(err.retryAfterSeconds, 1, 'a request in flight means retry in 1 s')
  t.equal(err.message, 'no valid IMS token for technical account "marketing": the token request did not finish in time', 'the message says IMS is slow')
  h.ims.calls[0]?.resolve(h.ims.tokenResponse())
  await settle()
  t.equal(h.provider.current('marketing')?.value, FakeIms.tokenValue(1), 'the late answer is still cached for later callers')
})

t.test('the default wait is timeoutSeconds, which the request timeout ends first', async t => {
  const h = harness(t)
  const waiting = rejectionOf(t, h.provider.get('marketing'))
  await h.clock.advance(10_000)
  const err = await waiting as TokenUnavailableError
  t.equal(err.message, 'no valid IMS token for technical account "marketing": the token request did not complete within 10 s', 'the timeout is the reason given')
  t.equal(err.retryAfterSeconds, 1, 'the retry 0.75 s later rounds up to 1 s')
  t.equal(err.cause instanceof Error, true, 'the underlying failure is the cause')
})
