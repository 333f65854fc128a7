// What callers see: single flight, compare-and-invalidate, close(), readiness and status.
import t from 'tap'
import { TokenProvider, TokenUnavailableError } from '../../src/ims/token-provider.js'
import { captureLogger, FakeIms, harness, IMS, MARKETING, rejectionOf, respond, settle, T0 } from '../fixtures/ims-harness.js'

// Single flight: any number of concurrent callers cause one token request per account.

t.test('1,000 concurrent get() with no token cause one token request', async t => {
  const h = harness(t)
  const pending = Array.from({ length: 1000 }, () => h.provider.get('marketing'))
  await settle()
  t.equal(h.ims.calls.length, 1, 'one token request was sent')
  h.ims.calls[0]?.resolve(h.ims.tokenResponse())
  const tokens = await Promise.all(pending)
  t.equal(new Set(tokens).size, 1, 'every caller received the same token object')
  t.equal(tokens[0]?.value, FakeIms.tokenValue(1), 'that is the token IMS issued')
  t.equal(h.ims.calls.length, 1, 'still one token request once they are all served')
  t.equal(h.clock.pending().length, 1, 'only the refresh timer is left: every waiter timer was cleared')
})

t.test('callers arriving while start() is in flight join it', async t => {
  const h = harness(t)
  h.provider.start()
  h.provider.start()
  const pending = Array.from({ length: 1000 }, () => h.provider.get('marketing'))
  await settle()
  t.equal(h.ims.calls.length, 1, 'start twice plus 1,000 callers sent one request')
  t.equal(h.provider.status()[0]?.isFetching, true, 'the status shows the request in flight')
  h.ims.calls[0]?.resolve(h.ims.tokenResponse())
  const tokens = await Promise.all(pending)
  t.equal(tokens.every(token => token.value === FakeIms.tokenValue(1)), true, 'every caller received the token of that request')
  h.provider.start()
  await settle()
  t.equal(h.ims.calls.length, 1, 'start with a valid token sends nothing')
})

t.test('a valid token is returned without any request', async t => {
  const h = harness(t)
  h.ims.script(h.ims.ok())
  const first = await h.provider.get('marketing')
  const again = await Promise.all(Array.from({ length: 1000 }, () => h.provider.get('marketing')))
  t.equal(again.every(token => token === first), true, 'later callers get the held token')
  t.equal(h.ims.calls.length, 1, 'one request in all')
})

// Compare-and-invalidate: only the current token is dropped, then one fetch (single flight).

t.test('invalidating the current token drops it and fetches a new one', async t => {
  const h = harness(t)
  h.ims.script(h.ims.ok(), h.ims.ok())
  const first = await h.provider.get('marketing')
  t.equal(h.provider.invalidate('marketing', first), true, 'the current token is dropped')
  t.equal(h.provider.current('marketing'), undefined, 'it is no longer served')
  const next = await h.provider.get('marketing')
  t.equal(next.value, FakeIms.tokenValue(2), 'the next caller gets a new token')
  t.equal(h.ims.calls.length, 2, 'one request was made for the invalidation')
  t.strictSame(h.lines.filter(line => line.msg === 'IMS token invalidated').map(line => line.obj),
    [{ account: 'marketing', fingerprint: first.fingerprint }], 'the invalidation is logged with the fingerprint')
})

t.test('a stale token does not drop the newer one a refresh brought', async t => {
  const h = harness(t)
  h.jitter.value = 0
  h.ims.script(h.ims.ok(), h.ims.ok())
  const stale = await h.provider.get('marketing')
  await h.clock.advanceTo(T0 + 69_119_200)
  const fresh = h.provider.current('marketing')
  t.equal(fresh?.value, FakeIms.tokenValue(2), 'the refresh brought a second token')
  t.equal(h.provider.invalidate('marketing', stale), false, 'invalidating the first token reports nothing dropped')
  t.equal(h.provider.current('marketing'), fresh, 'the second token is still served')
  await settle()
  t.equal(h.ims.calls.length, 2, 'no request was made')
})

t.test('many concurrent invalidations of one token make one request', async t => {
  const h = harness(t)
  h.ims.script(h.ims.ok())
  const token = await h.provider.get('marketing')
  const results = Array.from({ length: 100 }, () => h.provider.invalidate('marketing', token))
  t.equal(results.filter(Boolean).length, 1, 'only the first invalidation drops the token')
  await settle()
  t.equal(h.ims.calls.length, 2, 'one request follows them all')
})

t.test('invalidating during an in-flight refresh joins that refresh', async t => {
  const h = harness(t)
  h.jitter.value = 0
  h.ims.script(h.ims.ok())
  const token = await h.provider.get('marketing')
  await h.clock.advanceTo(T0 + 69_119_200)
  t.equal(h.ims.calls.length, 2, 'the refresh is in flight')
  t.equal(h.provider.invalidate('marketing', token), true, 'the current token is dropped')
  await settle()
  t.equal(h.ims.calls.length, 2, 'no second request is started')
  const waiting = h.provider.get('marketing')
  h.ims.calls[1]?.resolve(h.ims.tokenResponse())
  t.equal((await waiting).value, FakeIms.tokenValue(2), 'the caller gets the refreshed token')
})

t.test('a copy of the current token (same value) is recognised', async t => {
  const h = harness(t)
  h.ims.script(h.ims.ok())
  const token = await h.provider.get('marketing')
  t.equal(h.provider.invalidate('marketing', { ...token }), true, 'the comparison is by value')
})

t.test('nothing to invalidate', async t => {
  const h = harness(t)
  h.ims.script(h.ims.ok())
  const token = await h.provider.get('marketing')
  t.equal(h.provider.invalidate('sales', token), false, 'an unknown account drops nothing')
  h.provider.invalidate('marketing', token)
  t.equal(h.provider.invalidate('marketing', token), false, 'an account without a token drops nothing')
})

// close(): timers cancelled, in-flight requests aborted, waiting callers released.

t.test('close() cancels the refresh timer and keeps the token for synchronous readers', async t => {
  const h = harness(t)
  h.ims.script(h.ims.ok())
  const token = await h.provider.get('marketing')
  t.equal(h.clock.pending().length, 1, 'a refresh is scheduled')
  h.provider.close()
  t.strictSame(h.clock.pending(), [], 'no timer is left')
  t.equal(h.provider.status()[0]?.nextAttemptAt, undefined, 'nothing is planned any more')
  t.equal(await h.provider.get('marketing'), token, 'the valid token is still handed out')
  h.provider.start()
  t.equal(h.provider.invalidate('marketing', token), true, 'it can still be dropped')
  await settle()
  t.equal(h.ims.calls.length, 1, 'but neither start() nor invalidate() sends a request')
  const err = await rejectionOf(t, h.provider.get('marketing'))
  t.type(err, TokenUnavailableError, 'without a token, get() rejects')
  t.equal((err as Error).message, 'no valid IMS token for technical account "marketing": the token provider is closed', 'and says the provider is closed')
  h.provider.close()
  t.pass('closing twice is harmless')
})

t.test('close() aborts the in-flight request and releases its waiters', async t => {
  const h = harness(t)
  const waiting = rejectionOf(t, h.provider.get('marketing'))
  await settle()
  const signal = h.ims.calls[0]?.request.signal
  h.provider.close()
  t.equal(signal?.aborted, true, 'the request signal is aborted')
  const err = await waiting as TokenUnavailableError
  t.type(err, TokenUnavailableError, 'the waiting caller is released with TokenUnavailableError')
  t.equal(err.retryAfterSeconds, 1, 'it is told to retry in 1 s (another replica may serve it)')
  t.strictSame(h.clock.pending(), [], 'no timer is left: neither the request timeout nor the waiter timer')
  h.ims.calls[0]?.resolve(h.ims.tokenResponse())
  await settle()
  t.equal(h.provider.current('marketing'), undefined, 'an answer after close() is dropped')
  t.strictSame(h.events, [], 'and not reported')
})

t.test('close() during backoff cancels the retry', async t => {
  const h = harness(t)
  h.ims.script(respond(503, 'down'))
  h.provider.start()
  await settle()
  t.equal(h.clock.pending().length, 1, 'a retry is scheduled')
  h.provider.close()
  t.strictSame(h.clock.pending(), [], 'the retry timer is cancelled')
})

// Readiness and status for /readyz and metrics, unknown accounts, the metrics hook.

const SALES = { ...MARKETING, name: 'sales', clientId: 'sales-client-id' }

t.test('ready only once every account holds a valid token', async t => {
  const h = harness(t, { accounts: [MARKETING, SALES] })
  h.jitter.value = 0
  t.equal(h.provider.isReady(), false, 'not ready before start')
  t.strictSame(h.provider.status(), [
    { account: 'marketing', hasToken: false, expiresAt: undefined, fingerprint: undefined, lastError: undefined, consecutiveFailures: 0, nextAttemptAt: undefined, isFetching: false },
    { account: 'sales', hasToken: false, expiresAt: undefined, fingerprint: undefined, lastError: undefined, consecutiveFailures: 0, nextAttemptAt: undefined, isFetching: false },
  ], 'the status lists both accounts, idle')
  h.provider.start()
  await settle()
  h.ims.calls[0]?.resolve(h.ims.tokenResponse())
  await settle()
  t.equal(h.provider.isReady(), false, 'one account of two is not enough')
  h.ims.calls[1]?.resolve(h.ims.tokenResponse())
  await settle()
  t.equal(h.provider.isReady(), true, 'ready once both hold a token')
  t.strictSame(h.provider.status()[1], {
    account: 'sales',
    hasToken: true,
    expiresAt: T0 + 86_399_000,
    fingerprint: h.provider.current('sales')?.fingerprint,
    lastError: undefined,
    consecutiveFailures: 0,
    nextAttemptAt: T0 + 69_119_200,
    isFetching: false,
  }, 'the status shows the expiry, fingerprint and planned refresh, never the token')
  t.equal(h.provider.current('sales')?.value, FakeIms.tokenValue(2), 'each account holds its own token')
})

t.test('unknown accounts', async t => {
  const h = harness(t)
  t.equal(h.provider.current('sales'), undefined, 'current() has no token for an unknown account')
  const err = await rejectionOf(t, h.provider.get('sales'))
  t.equal((err as Error).message, 'unknown technical account "sales"', 'get() rejects naming the account')
})

t.test('an account listed twice is refused', async t => {
  t.throws(() => new TokenProvider({ ims: IMS, accounts: [MARKETING, MARKETING], logger: captureLogger().logger, requestToken: new FakeIms().requestToken }),
    { message: 'technical account "marketing" is listed twice' }, 'the constructor throws')
})

t.test('a failing metrics hook is logged and changes nothing', async t => {
  const h = harness(t, { onTokenRequest: () => { throw new Error('registry closed') } })
  h.ims.script(h.ims.ok())
  const token = await h.provider.get('marketing')
  t.equal(token.value, FakeIms.tokenValue(1), 'the token is served')
  t.strictSame(h.lines.filter(line => line.level === 'warn').map(line => line.msg), ['onTokenRequest hook failed'], 'the hook failure is a warning')
})

t.test('without a metrics hook nothing is reported', async t => {
  const h = harness(t, { onTokenRequest: undefined })
  h.ims.script(h.ims.ok())
  t.equal((await h.provider.get('marketing')).value, FakeIms.tokenValue(1), 'the token is served')
  t.strictSame(h.events, [], 'no event was recorded')
})
