// The lockout under concurrency: a check takes its place before scrypt, so
// however many wrong passwords arrive at once from one login+address, at
// most maxFailures are evaluated; the per-login budget bounds guesses
// spread over many addresses, except from addresses the login logged on
// from; a locked caller cannot test passwords against the verification
// cache; a locked answer waits about as long as a scrypt run; a check that
// finds the gate's queues full is 'busy' and takes no place.
import t from 'tap'
import { INITIAL_SCRYPT_MS, MAX_LOCKED_DELAY_MS, PASSWORD_CHECK_DEFAULTS, PasswordChecker, type PasswordCheckSettings, type PasswordOutcome } from '../../src/auth/password-check.js'
import { DEFAULTS } from '../../src/config/schema.js'
import type { IntegrationConfig } from '../../src/config/types.js'

const RIGHT = 'the-right-one'
const HASH = 'scrypt$N=1024,r=8,p=1$GeOX8hieKUbL9btHy9OOtg$PxhAoKNxvNJQ8B6J5WM12-N3xvO9tSDzlVpAJtmFYOI'
const INTEGRATION: IntegrationConfig = { name: 'crm', mode: 'ims', login: 'crm_operator', passwordHash: HASH, networks: [], clientCertificates: [], technicalAccount: 'marketing', allowedMethods: undefined, allowedPaths: undefined }

interface Harness {
  readonly checker: PasswordChecker
  /** Passwords scrypt was run for, in order. */
  readonly verified: string[]
  /** Outcomes reported, with the lockout state they carried. */
  readonly reported: Array<{ outcome: PasswordOutcome, caller: string, failures: number, locked: boolean, loginLocked: boolean }>
  /** Delays a locked answer waited (ms). */
  readonly delays: number[]
  /** Lets every scrypt run waiting so far (and later) finish. */
  readonly open: () => void
  readonly clock: { now: number, mono: number }
  check: (password: string, caller: string) => Promise<PasswordOutcome>
}

/** A checker whose scrypt runs wait for `open()` (or not, when `opened`), take `runMs` of the monotonic clock each, and are counted. */
function harness (options: { settings?: PasswordCheckSettings, opened?: boolean, runMs?: (password: string) => number, fails?: (password: string) => boolean } = {}): Harness {
  const clock = { now: 1_000_000, mono: 0 }
  let open = (): void => {}
  const opened = options.opened === true ? Promise.resolve() : new Promise<void>(resolve => { open = resolve })
  const verified: string[] = []
  const reported: Harness['reported'] = []
  const delays: number[] = []
  const checker = new PasswordChecker({
    now: () => clock.now,
    clock: () => clock.mono,
    delay: async ms => { delays.push(ms) },
    verify: async (password) => {
      verified.push(password)
      await opened
      clock.mono += options.runMs?.(password) ?? 60
      if (options.fails?.(password) === true) throw new Error('scrypt failed')
      return password === RIGHT
    },
    onOutcome: (outcome, _presented, caller, state) => { reported.push({ outcome, caller, ...state }) },
    ...(options.settings === undefined ? {} : { settings: options.settings }),
  })
  return {
    checker,
    verified,
    reported,
    delays,
    open: () => { open() },
    clock,
    check: (password, caller) => checker.check({ integration: INTEGRATION, login: 'crm_operator', password }, caller),
  }
}

const count = (outcomes: PasswordOutcome[], outcome: PasswordOutcome): number => outcomes.filter(o => o === outcome).length
const wideGate = (lockout: Partial<PasswordCheckSettings['lockout']> = {}): PasswordCheckSettings => ({ lockout: { ...PASSWORD_CHECK_DEFAULTS.lockout, ...lockout }, gate: { maxConcurrent: 2, queueDepth: 1000, queueDepthPerLogin: 1000 } })

t.test('200 different wrong passwords and the right one at once from one address: 3 evaluated, the rest locked', async t => {
  const h = harness({ settings: wideGate() })
  const checks = Array.from({ length: 200 }, (_, i) => h.check(`wrong-${i}`, '10.0.0.1'))
  checks.push(h.check(RIGHT, '10.0.0.1'))
  t.equal(h.verified.length, 2, 'before any run ends: two run (the gate), one waits, and none of the others got a place')
  h.open()
  const outcomes = await Promise.all(checks)
  t.same(h.verified, ['wrong-0', 'wrong-1', 'wrong-2'], 'scrypt ran for the first three only')
  t.equal(count(outcomes, 'failure'), 3, 'three failures')
  t.equal(count(outcomes, 'locked'), 198, 'every other check, the right password included, is locked')
  t.equal(outcomes.at(-1), 'locked', 'the right password among them')
  t.same(h.reported.filter(r => r.outcome === 'failure').map(r => [r.failures, r.locked]), [[1, false], [2, false], [0, true]], 'the third recorded failure locks')
  t.equal(await h.check(RIGHT, '10.0.0.1'), 'locked', 'afterwards the right password is locked too')
  t.equal(h.verified.length, 3, 'without a scrypt run')
  t.equal(await h.check(RIGHT, '10.0.0.2'), 'success', 'another address is not locked')
})

t.test('100 addresses × 3 wrong passwords at once: at most 20 evaluated', async t => {
  const h = harness({ settings: wideGate() })
  const checks: Promise<PasswordOutcome>[] = []
  for (let a = 0; a < 100; a++) for (let g = 0; g < 3; g++) checks.push(h.check(`wrong-${a}-${g}`, `10.3.0.${a}`))
  h.open()
  const outcomes = await Promise.all(checks)
  t.equal(h.verified.length, 20, 'scrypt ran 20 times')
  t.same([count(outcomes, 'failure'), count(outcomes, 'locked')], [20, 280], '20 failures, 280 locked')
  t.ok(h.reported.some(r => r.outcome === 'failure' && r.loginLocked), 'the log line of the 20th says the login is locked')
  t.equal(await h.check(RIGHT, '10.3.1.1'), 'locked', 'the right password from a new address is locked')
})

t.test('a locked caller cannot test passwords against the verification cache; the login lock lets a known address through', async t => {
  const h = harness({ opened: true, settings: { ...PASSWORD_CHECK_DEFAULTS, lockout: { ...PASSWORD_CHECK_DEFAULTS.lockout, lockSeconds: 900 } } })
  t.equal(await h.check(RIGHT, '10.0.0.1'), 'success', 'verified once')
  t.equal(await h.check(RIGHT, '10.0.0.9'), 'success', 'then from the cache, elsewhere too')
  t.equal(h.verified.length, 1, 'with one scrypt run')
  for (let i = 0; i < 3; i++) t.equal(await h.check(`guess-${i}`, '10.0.0.9'), 'failure', `guess ${i + 1} is evaluated`)
  t.equal(await h.check(RIGHT, '10.0.0.9'), 'locked', 'the locked address gets locked even for the cached pair')
  t.equal(await h.check(RIGHT, '10.0.0.1'), 'success', 'the address that verified it is not locked: the cache answers')
  t.equal(h.reported.filter(r => r.outcome === 'success').length, 1, 'cache answers are not reported')

  for (let a = 0; a < 20; a++) await h.check(`spread-${a}`, `10.5.0.${a}`)
  t.equal(await h.check(RIGHT, '10.5.1.1'), 'locked', 'after 20 failures from many addresses, a new address is locked, cached pair or not')
  t.equal(await h.check(RIGHT, '10.0.0.1'), 'success', 'the address the login logged on from is not')
  h.clock.now += 301_000
  t.equal(await h.check(RIGHT, '10.5.1.2'), 'locked', 'five minutes later the login is still locked (lockSeconds 900 here)')
  t.equal(await h.check(RIGHT, '10.0.0.1'), 'success', 'and the known address gets through once the cached pair expired: scrypt runs for it')
  t.equal(h.verified.filter(p => p === RIGHT).length, 2, 'the second run')
})

t.test('concurrent checks of the same pair share one run and each records its outcome', async t => {
  const h = harness()
  const same = Array.from({ length: 5 }, () => h.check('stale-password', '10.0.0.1'))
  const right = Array.from({ length: 5 }, () => h.check(RIGHT, '10.0.0.2'))
  h.open()
  t.same(await Promise.all(same), Array(5).fill('failure'), 'five failures')
  t.same(await Promise.all(right), Array(5).fill('success'), 'five successes')
  t.same(h.verified, ['stale-password', RIGHT], 'from two scrypt runs')
  t.equal(await h.check('other', '10.0.0.1'), 'locked', 'each failure counted: the address is locked')
})

t.test('a locked answer waits the running average of scrypt runs with the same parameters, by a timer', async t => {
  const durations = [100, 50, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000]
  const h = harness({ opened: true, runMs: () => durations.shift() as number, settings: wideGate({ maxFailures: 100, loginMaxFailures: 100 }) })
  t.equal(h.checker.lockedDelayMs(HASH), INITIAL_SCRYPT_MS, 'before any run: the initial estimate')
  await h.check('w1', '10.0.0.1')
  t.equal(h.checker.lockedDelayMs(HASH), 100, 'the first run')
  await h.check('w2', '10.0.0.1')
  t.equal(h.checker.lockedDelayMs(HASH), 90, 'then a running average (weight 0.2 for the newest)')
  const stronger = 'scrypt$N=32768,r=8,p=1$GeOX8hieKUbL9btHy9OOtg$PxhAoKNxvNJQ8B6J5WM12-N3xvO9tSDzlVpAJtmFYOI'
  t.equal(h.checker.lockedDelayMs(stronger), INITIAL_SCRYPT_MS, 'other parameters have their own average')
  for (let i = 0; i < 10; i++) await h.check(`slow-${i}`, '10.0.0.1')
  t.equal(h.checker.lockedDelayMs(HASH), MAX_LOCKED_DELAY_MS, 'capped when scrypt gets very slow')

  const locked = harness({ opened: true })
  for (let i = 0; i < 3; i++) await locked.check(`w${i}`, '10.0.0.1')
  t.same(locked.delays, [], 'wrong passwords do not wait for a timer (their scrypt run is the wait)')
  t.equal(await locked.check(RIGHT, '10.0.0.1'), 'locked', 'locked')
  t.same(locked.delays, [60], 'the locked answer waited as long as the runs took')
  t.same(locked.reported.at(-1), { outcome: 'locked', caller: '10.0.0.1', failures: 0, locked: true, loginLocked: false }, 'and is reported as locked (metrics, logs)')
})

t.test('full queues: busy at once, reported, no place taken; the defaults', async t => {
  const h = harness({ settings: { lockout: PASSWORD_CHECK_DEFAULTS.lockout, gate: { maxConcurrent: 1, queueDepth: 1, queueDepthPerLogin: 1 } } })
  const running = h.check('a', '10.0.0.1')
  const waiting = h.check('b', '10.0.0.2')
  t.equal(await h.check('c', '10.0.0.3'), 'busy', 'a third check is refused')
  t.equal(await h.check('c', '10.0.0.3'), 'busy', 'again')
  t.same(h.reported.map(r => r.outcome), ['busy', 'busy'], 'reported as busy')
  h.open()
  t.same(await Promise.all([running, waiting]), ['failure', 'failure'], 'the two admitted are evaluated')
  t.same(h.reported.filter(r => r.caller === '10.0.0.3').map(r => r.outcome), ['busy', 'busy'], 'the refused address has no failure recorded')
  for (let i = 0; i < 3; i++) t.equal(await h.check(`c${i}`, '10.0.0.3'), 'failure', `so it still has three tries (${i + 1})`)
  t.equal(await h.check('c3', '10.0.0.3'), 'locked', 'then it is locked')
  const again = [h.check('d', '10.0.0.1'), h.check('e', '10.0.0.2')]
  t.equal(await h.check(RIGHT, '10.0.0.3'), 'busy', 'with the queues full, the locked address is refused as busy like any other: busy does not say "not locked"')
  t.same(await Promise.all(again), ['failure', 'failure'], 'the two admitted are evaluated')

  const real = new PasswordChecker({ now: Date.now, onOutcome: () => {} })
  const presented = { integration: INTEGRATION, login: 'crm_operator', password: 'x' }
  for (let i = 0; i < 3; i++) await real.check({ ...presented, password: `x${i}` }, '10.0.0.1')
  t.equal(await real.check(presented, '10.0.0.1'), 'locked', 'defaults (scrypt, real clock and timer): locked after three')
})

t.test('a failing scrypt run gives the place back and fails every check sharing it', async t => {
  const h = harness({ fails: password => password === 'boom' })
  const failing = [h.check('boom', '10.0.0.1'), h.check('boom', '10.0.0.1')]
  h.open()
  for (const check of failing) await t.rejects(check, /scrypt failed/, 'the error reaches the caller')
  t.same(h.reported, [], 'nothing is reported: nothing was decided')
  for (let i = 0; i < 3; i++) t.equal(await h.check(`w${i}`, '10.0.0.1'), 'failure', `three tries are left (${i + 1})`)
  t.equal(await h.check('w3', '10.0.0.1'), 'locked', 'then locked')
})

t.test("the checker's defaults are the configuration's", async t => {
  t.same(PASSWORD_CHECK_DEFAULTS, {
    lockout: DEFAULTS.lockout,
    gate: { maxConcurrent: DEFAULTS.limits.maxConcurrentPasswordChecks, queueDepth: DEFAULTS.limits.passwordCheckQueueDepth, queueDepthPerLogin: DEFAULTS.limits.passwordCheckQueueDepthPerLogin },
  }, 'the same values in both places')
})

t.test('configure applies new limits and keeps what was counted', async t => {
  const h = harness({ opened: true })
  t.equal(await h.check('w0', '10.0.0.1'), 'failure', 'one failure under the defaults')
  h.checker.configure({ lockout: { ...PASSWORD_CHECK_DEFAULTS.lockout, maxFailures: 2 }, gate: PASSWORD_CHECK_DEFAULTS.gate })
  t.equal(await h.check('w1', '10.0.0.1'), 'failure', 'a second')
  t.equal(await h.check(RIGHT, '10.0.0.1'), 'locked', 'locks with the new limit of 2')
})
