// LoginLockout: Campaign's rule per login and address, the per-login
// budget across addresses (not for an address the login logged on from),
// and the places checks in progress take before scrypt.
import t from 'tap'
import { LoginLockout } from '../../src/auth/lockout.js'

t.test('three failures within the window lock the login from that address', async t => {
  let now = 1_000_000
  const lockout = new LoginLockout({ now: () => now })
  t.same(lockout.recordFailure('etl', '10.0.0.1'), { locked: false, failures: 1, loginLocked: false }, 'first failure')
  now += 60_000
  t.same(lockout.recordFailure('etl', '10.0.0.1'), { locked: false, failures: 2, loginLocked: false }, 'second failure')
  t.same(lockout.recordFailure('etl', '10.0.0.1'), { locked: true, failures: 0, loginLocked: false }, 'third failure locks')
  t.same(lockout.isLocked('etl', '10.0.0.1'), { locked: true, retryAfterSeconds: 300 }, 'locked for 5 minutes')
  t.same(lockout.isLocked('etl', '10.0.0.2'), { locked: false }, 'another address is not locked')
  t.same(lockout.isLocked('crm', '10.0.0.1'), { locked: false }, 'another login is not locked')
  now += 300_000
  t.same(lockout.isLocked('etl', '10.0.0.1'), { locked: false }, 'unlocked once the lock time has passed')
})

t.test('failures older than the window do not count; success clears', async t => {
  let now = 0
  const lockout = new LoginLockout({ now: () => now, maxFailures: 2, windowSeconds: 10, lockSeconds: 5 })
  lockout.recordFailure('a', 'x')
  now += 11_000
  t.same(lockout.recordFailure('a', 'x'), { locked: false, failures: 1, loginLocked: false }, 'the old failure fell out of the window')
  lockout.recordSuccess('a', 'x')
  t.same(lockout.recordFailure('a', 'x'), { locked: false, failures: 1, loginLocked: false }, 'a success cleared the count')
  t.same(lockout.recordFailure('a', 'x'), { locked: true, failures: 0, loginLocked: false }, 'custom thresholds apply')
  t.same(lockout.isLocked('a', 'x'), { locked: true, retryAfterSeconds: 5 }, 'custom lock time applies')
  lockout.configure({ maxFailures: 1, windowSeconds: 10, lockSeconds: 60, loginMaxFailures: 20 })
  t.same(lockout.isLocked('a', 'x'), { locked: true, retryAfterSeconds: 5 }, 'a reload keeps the lock in force')
  t.same(lockout.recordFailure('a', 'y'), { locked: true, failures: 0, loginLocked: false }, 'and its new limits apply: one failure locks')
  t.same(lockout.isLocked('a', 'y'), { locked: true, retryAfterSeconds: 60 }, 'for the new lock time')
})

t.test('memory is bounded and the real clock is the default', async t => {
  const lockout = new LoginLockout({ maxEntries: 2 })
  lockout.recordFailure('a', '1')
  lockout.recordFailure('b', '1')
  lockout.recordFailure('c', '1')
  t.same(lockout.recordFailure('a', '1'), { locked: false, failures: 1, loginLocked: false }, 'the oldest entry was evicted')
})

t.test('a success gives its place back and clears; a failure becomes a recorded failure; a refusal takes none', async t => {
  let now = 0
  const lockout = new LoginLockout({ now: () => now, maxFailures: 3 })
  const first = lockout.reserve('a', 'x')
  const second = lockout.reserve('a', 'x')
  const third = lockout.reserve('a', 'x')
  t.ok(first !== undefined && second !== undefined && third !== undefined, 'three places')
  t.equal(lockout.reserve('a', 'x'), undefined, 'no fourth while three checks are in progress')
  t.same(lockout.isLocked('a', 'x'), { locked: false }, 'although nothing is locked yet')
  first?.released()
  const fourth = lockout.reserve('a', 'x')
  t.ok(fourth !== undefined, 'a released place can be taken again')
  t.same(second?.failed(), { locked: false, failures: 1, loginLocked: false }, 'a failure is recorded')
  t.equal(lockout.reserve('a', 'x'), undefined, 'and still counts: 1 failure + 2 in progress')
  third?.succeeded()
  t.same(lockout.isLocked('a', 'x'), { locked: false }, 'a success clears the failures')
  const again = [lockout.reserve('a', 'x'), lockout.reserve('a', 'x')]
  t.ok(again.every(r => r !== undefined), 'so two more places are free (one is still in progress)')
  t.same(again.map(r => r?.failed()), [{ locked: false, failures: 1, loginLocked: false }, { locked: false, failures: 2, loginLocked: false }], 'two failures')
  t.same(fourth?.failed(), { locked: true, failures: 0, loginLocked: false }, 'the one still in progress fails last and locks')
  t.equal(lockout.reserve('a', 'x'), undefined, 'locked: no place')
  now += 300_000
  t.ok(lockout.reserve('a', 'x') !== undefined, 'until the lock ends')
})

t.test('the per-login budget: 20 failures from any addresses lock the login except where it logged on', async t => {
  let now = 5_000_000
  const lockout = new LoginLockout({ now: () => now })
  lockout.recordSuccess('etl', '10.9.9.9')
  const places = Array.from({ length: 19 }, (_, i) => lockout.reserve('etl', `10.1.0.${i}`))
  t.ok(places.every(p => p !== undefined), '19 addresses check at once')
  t.ok(lockout.reserve('etl', '10.1.1.1') !== undefined, 'the 20th place')
  t.equal(lockout.reserve('etl', '10.1.1.2'), undefined, 'a 21st address gets none while 20 checks are in progress')
  t.ok(lockout.reserve('etl', '10.9.9.9') !== undefined, 'an address the login logged on from is not held by the login budget')
  t.ok(lockout.reserve('crm', '10.1.1.2') !== undefined, 'nor is another login')
  const records = places.map(p => p?.failed())
  t.same(records.at(-1), { locked: false, failures: 1, loginLocked: false }, '19 failures: not yet')
  t.same(lockout.recordFailure('etl', '10.1.2.3'), { locked: true, failures: 1, loginLocked: true }, 'the 20th locks the login')
  t.same(lockout.isLocked('etl', '10.7.7.7'), { locked: true, retryAfterSeconds: 300 }, 'for a new address')
  t.same(lockout.isLocked('etl', '10.9.9.9'), { locked: false }, 'not for the address it logged on from')
  t.same(lockout.isLocked('crm', '10.7.7.7'), { locked: false }, 'not for another login')
  now += 300_000
  t.same(lockout.isLocked('etl', '10.7.7.7'), { locked: false }, 'until the lock ends')
  lockout.recordFailure('etl', '10.7.7.7')
  t.same(lockout.isLocked('etl', '10.7.7.7'), { locked: false }, 'the count starts again after a lock')

  const forgetful = new LoginLockout({ now: () => now, knownAddressSeconds: 60, loginMaxFailures: 3 })
  forgetful.recordSuccess('etl', '10.9.9.9')
  for (let i = 0; i < 3; i++) forgetful.recordFailure('etl', `10.2.0.${i}`)
  t.same(forgetful.isLocked('etl', '10.9.9.9'), { locked: false }, 'known for 60 s here')
  now += 61_000
  t.same(forgetful.isLocked('etl', '10.9.9.9'), { locked: true, retryAfterSeconds: 239 }, 'then it is an address like any other')
})

t.test('failures told by another replica count at their own time', async t => {
  let now = 1_000_000
  const lockout = new LoginLockout({ maxFailures: 2, windowSeconds: 60, lockSeconds: 30, now: () => now })
  lockout.recordFailure('op', '10.0.0.1', now - 61_000)
  t.notOk(lockout.isLocked('op', '10.0.0.1').locked, 'a failure older than the window counts for nothing')
  lockout.recordFailure('op', '10.0.0.1', now - 10_000)
  lockout.recordFailure('op', '10.0.0.1', now + 5_000)
  t.same(lockout.isLocked('op', '10.0.0.1'), { locked: true, retryAfterSeconds: 30 }, 'two in the window lock; a time ahead of this clock counts as now')
  now += 31_000
  t.notOk(lockout.isLocked('op', '10.0.0.1').locked, 'the lock ends after lockSeconds')
})
