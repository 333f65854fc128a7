// limits: sizes as bytes or unit strings; replayLimit <= maxBody; 1 KiB <= head <= replayLimit.
import t from 'tap'
import { parseSize } from '../../src/config/size.js'
import { MINIMAL, parse, problemsOf } from '../fixtures/config.js'

t.test('parseSize: bytes and units', async t => {
  const cases: [string, number | undefined][] = [
    ['1048576', 1048576],
    ['64KiB', 65536],
    ['1MiB', 1048576],
    ['1GiB', 1073741824],
    ['2TiB', 2 * 2 ** 40],
    ['10MB', 10_000_000],
    ['10 MB', 10_000_000],
    ['1kb', 1000],
    ['3gb', 3e9],
    ['1TB', 1e12],
    ['512B', 512],
    ['1.5MiB', 1572864],
    ['0.5KB', 500],
    ['0', 0],
    ['1.5', undefined],
    ['10XB', undefined],
    ['MiB', undefined],
    ['-1MiB', undefined],
    ['1 MiB ', undefined],
    ['99999999999999999999', undefined],
    ['9999999TiB', undefined],
  ]
  for (const [text, bytes] of cases) t.equal(parseSize(text), bytes, `${JSON.stringify(text)} is ${String(bytes)}`)
})

t.test('sizes in the configuration: integers and strings', async t => {
  const config = parse(`${MINIMAL}limits:\n  maxBodyBytes: 10MB\n  replayLimitBytes: 262144\n  headBytes: 16KiB\n`)
  t.same(config.limits, { maxBodyBytes: 10_000_000, replayLimitBytes: 262144, headBytes: 16384, maxHeaderBytes: 16384, maxConcurrentRequests: 1024, queueDepth: 1024, queueTimeoutSeconds: 5, maxConcurrentRequestsTotal: 4096, maxUnidentifiedRequests: 256, unidentifiedConnections: 16, responseIdleTimeoutSeconds: 30, maxPipelinedRequests: 32, requestTimeoutSeconds: 300, headersTimeoutSeconds: 30, keepAliveTimeoutSeconds: 72, maxConcurrentPasswordChecks: 2, passwordCheckQueueDepth: 32, passwordCheckQueueDepthPerLogin: 8 }, 'each form is read as bytes')
  const sizeProblem = 'must be a number of bytes or a size such as 64KiB, 1MiB, 1GiB, 10MB (at least 1 byte)'
  t.same(problemsOf(`${MINIMAL}limits:\n  maxBodyBytes: 10XB\n  replayLimitBytes: "0"\n  headBytes: 0\n`), [
    `limits.maxBodyBytes: ${sizeProblem}`,
    `limits.replayLimitBytes: ${sizeProblem}`,
    'limits.headBytes: must be >= 1',
  ], 'unknown units and zero are refused; the defaults fill in, so no comparison problem follows')
  t.same(problemsOf(`${MINIMAL}limits:\n  maxBodyBytes: [1]\n  headBytes: 1.5\n`), [
    'limits.maxBodyBytes: must be a number of bytes or a size such as 64KiB, 1MiB, 10MB',
    `limits.headBytes: ${sizeProblem}`,
  ], 'a list is the wrong type; a fraction of a byte is not a size')
})

t.test('the limits must be ordered', async t => {
  t.same(problemsOf(`${MINIMAL}limits:\n  maxBodyBytes: 1MiB\n  replayLimitBytes: 2MiB\n`),
    ['limits.replayLimitBytes: must not exceed limits.maxBodyBytes (1048576)'], 'the replay limit cannot exceed the body limit')
  t.same(problemsOf(`${MINIMAL}limits:\n  headBytes: 1023\n`),
    ['limits.headBytes: must be at least 1024 (1 KiB)'], 'the head must hold at least 1 KiB')
  t.same(problemsOf(`${MINIMAL}limits:\n  replayLimitBytes: 32KiB\n`),
    ['limits.headBytes: must not exceed limits.replayLimitBytes (32768)'], 'the default head cannot exceed a smaller replay limit')
  t.same(parse(`${MINIMAL}limits:\n  maxBodyBytes: 1KiB\n  replayLimitBytes: 1KiB\n  headBytes: 1KiB\n`).limits,
    { maxBodyBytes: 1024, replayLimitBytes: 1024, headBytes: 1024, maxHeaderBytes: 16384, maxConcurrentRequests: 1024, queueDepth: 1024, queueTimeoutSeconds: 5, maxConcurrentRequestsTotal: 4096, maxUnidentifiedRequests: 256, unidentifiedConnections: 16, responseIdleTimeoutSeconds: 30, maxPipelinedRequests: 32, requestTimeoutSeconds: 300, headersTimeoutSeconds: 30, keepAliveTimeoutSeconds: 72, maxConcurrentPasswordChecks: 2, passwordCheckQueueDepth: 32, passwordCheckQueueDepthPerLogin: 8 }, 'equal limits at the 1 KiB floor are accepted')
})

t.test('password checks and the lockout: read, bounded, and ordered', async t => {
  const config = parse(`${MINIMAL}limits:\n  maxConcurrentPasswordChecks: 4\n  passwordCheckQueueDepth: 10\n  passwordCheckQueueDepthPerLogin: 10\nlockout:\n  maxFailures: 5\n  windowSeconds: 60\n  lockSeconds: 30.5\n  loginMaxFailures: 5\n`)
  t.same([config.limits.maxConcurrentPasswordChecks, config.limits.passwordCheckQueueDepth, config.limits.passwordCheckQueueDepthPerLogin], [4, 10, 10], 'the limits as given; a per-login queue as deep as the whole one is allowed')
  t.same(config.lockout, { maxFailures: 5, windowSeconds: 60, lockSeconds: 30.5, loginMaxFailures: 5 }, 'the lockout as given; a login budget equal to the per-address one is allowed')
  t.same(problemsOf(`${MINIMAL}limits:\n  passwordCheckQueueDepthPerLogin: 33\n`),
    ['limits.passwordCheckQueueDepthPerLogin: must not exceed limits.passwordCheckQueueDepth (32)'], 'a per-login queue deeper than the default whole queue')
  t.same(problemsOf(`${MINIMAL}lockout:\n  maxFailures: 21\n`),
    ['lockout.loginMaxFailures: must be at least lockout.maxFailures (21)'], 'a per-address limit above the default login budget')
  t.same(problemsOf(`${MINIMAL}limits:\n  maxConcurrentPasswordChecks: 0\n  passwordCheckQueueDepthPerLogin: -1\nlockout:\n  maxFailures: 0\n  windowSeconds: 0\n  lockSeconds: -5\n  loginMaxFailures: 2.5\n  maxFailure: 3\n`), [
    'limits.maxConcurrentPasswordChecks: must be >= 1',
    'limits.passwordCheckQueueDepthPerLogin: must be >= 0',
    'lockout.maxFailures: must be >= 1',
    'lockout.windowSeconds: must be > 0',
    'lockout.lockSeconds: must be > 0',
    'lockout.loginMaxFailures: must be an integer',
    'lockout.maxFailure: unknown key (did you mean maxFailures?)',
  ], 'out-of-range values and a misspelt key are reported')
})
