import t from 'tap'
import { LoginLockout } from '../../src/auth/lockout.js'

t.test('three failures within the window lock the login from that address', async t => {
  let now = 1_000_000
  const lockout = new LoginLockout({ now: () => now })
  t.same(lockout.recordFailure('etl', '10.0.0.1'), { locked: false, failures: 1 }, 'first failure')
  now += 60_000
  t.same(lockout.recordFailure('etl', '10.0.0.1'), { locked: false, failures: 2 }, 'second failure')
  t.same(lockout.recordFailure('etl', '10.0.0.1'), { locked: true, failures: 0 }, 'third failure locks')
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
  t.same(lockout.recordFailure('a', 'x'), { locked: false, failures: 1 }, 'the old failure fell out of the window')
  lockout.recordSuccess('a', 'x')
  t.same(lockout.recordFailure('a', 'x'), { locked: false, failures: 1 }, 'a success cleared the count')
  t.same(lockout.recordFailure('a', 'x'), { locked: true, failures: 0 }, 'custom thresholds apply')
  t.same(lockout.isLocked('a', 'x'), { locked: true, retryAfterSeconds: 5 }, 'custom lock time applies')
})

t.test('memory is bounded and the real clock is the default', async t => {
  const lockout = new LoginLockout({ maxEntries: 2 })
  lockout.recordFailure('a', '1')
  lockout.recordFailure('b', '1')
  lockout.recordFailure('c', '1')
  t.same(lockout.recordFailure('a', '1'), { locked: false, failures: 1 }, 'the oldest entry was evicted')
})
