/** The `limits` section: sizes and timeouts, each bounded by the next larger one; and `lockout` (docs/configuration.md, Network and limits). */
import { type BuildContext, number, record } from './build-context.js'
import { DEFAULTS, MIN_HEAD_BYTES } from './schema.js'
import type { LimitsConfig, LockoutConfig } from './types.js'

export function buildLimits (data: unknown, { report, sizeOf }: BuildContext): LimitsConfig {
  const limits = record(data)
  const maxBodyBytes = sizeOf(limits.maxBodyBytes, 'maxBodyBytes')
  const replayLimitBytes = sizeOf(limits.replayLimitBytes, 'replayLimitBytes')
  const headBytes = sizeOf(limits.headBytes, 'headBytes')
  if (replayLimitBytes > maxBodyBytes) report(['limits', 'replayLimitBytes'], `must not exceed limits.maxBodyBytes (${maxBodyBytes})`)
  if (headBytes < MIN_HEAD_BYTES) report(['limits', 'headBytes'], `must be at least ${MIN_HEAD_BYTES} (1 KiB)`)
  if (headBytes > replayLimitBytes) report(['limits', 'headBytes'], `must not exceed limits.replayLimitBytes (${replayLimitBytes})`)
  const maxHeaderBytes = sizeOf(limits.maxHeaderBytes, 'maxHeaderBytes')
  const requestTimeoutSeconds = number(limits.requestTimeoutSeconds, DEFAULTS.limits.requestTimeoutSeconds)
  const headersTimeoutSeconds = number(limits.headersTimeoutSeconds, DEFAULTS.limits.headersTimeoutSeconds)
  if (headersTimeoutSeconds > requestTimeoutSeconds) report(['limits', 'headersTimeoutSeconds'], `must not exceed limits.requestTimeoutSeconds (${requestTimeoutSeconds})`)
  const passwordCheckQueueDepth = number(limits.passwordCheckQueueDepth, DEFAULTS.limits.passwordCheckQueueDepth)
  const passwordCheckQueueDepthPerLogin = number(limits.passwordCheckQueueDepthPerLogin, DEFAULTS.limits.passwordCheckQueueDepthPerLogin)
  if (passwordCheckQueueDepthPerLogin > passwordCheckQueueDepth) report(['limits', 'passwordCheckQueueDepthPerLogin'], `must not exceed limits.passwordCheckQueueDepth (${passwordCheckQueueDepth})`)
  return {
    maxBodyBytes,
    replayLimitBytes,
    headBytes,
    maxHeaderBytes,
    maxConcurrentRequests: number(limits.maxConcurrentRequests, DEFAULTS.limits.maxConcurrentRequests),
    queueDepth: number(limits.queueDepth, DEFAULTS.limits.queueDepth),
    queueTimeoutSeconds: number(limits.queueTimeoutSeconds, DEFAULTS.limits.queueTimeoutSeconds),
    maxConcurrentRequestsTotal: number(limits.maxConcurrentRequestsTotal, DEFAULTS.limits.maxConcurrentRequestsTotal),
    maxUnidentifiedRequests: number(limits.maxUnidentifiedRequests, DEFAULTS.limits.maxUnidentifiedRequests),
    unidentifiedConnections: number(limits.unidentifiedConnections, DEFAULTS.limits.unidentifiedConnections),
    responseIdleTimeoutSeconds: number(limits.responseIdleTimeoutSeconds, DEFAULTS.limits.responseIdleTimeoutSeconds),
    maxPipelinedRequests: number(limits.maxPipelinedRequests, DEFAULTS.limits.maxPipelinedRequests),
    requestTimeoutSeconds,
    headersTimeoutSeconds,
    keepAliveTimeoutSeconds: number(limits.keepAliveTimeoutSeconds, DEFAULTS.limits.keepAliveTimeoutSeconds),
    maxConcurrentPasswordChecks: number(limits.maxConcurrentPasswordChecks, DEFAULTS.limits.maxConcurrentPasswordChecks),
    passwordCheckQueueDepth,
    passwordCheckQueueDepthPerLogin,
  }
}

/** The `lockout` section: the per-login limit is at least the per-address one (or it would lock a login before any address is). */
export function buildLockout (data: unknown, { report }: BuildContext): LockoutConfig {
  const lockout = record(data)
  const maxFailures = number(lockout.maxFailures, DEFAULTS.lockout.maxFailures)
  const loginMaxFailures = number(lockout.loginMaxFailures, DEFAULTS.lockout.loginMaxFailures)
  if (loginMaxFailures < maxFailures) report(['lockout', 'loginMaxFailures'], `must be at least lockout.maxFailures (${maxFailures})`)
  return {
    maxFailures,
    windowSeconds: number(lockout.windowSeconds, DEFAULTS.lockout.windowSeconds),
    lockSeconds: number(lockout.lockSeconds, DEFAULTS.lockout.lockSeconds),
    loginMaxFailures,
  }
}
