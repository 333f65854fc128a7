/** The `limits` section: sizes and timeouts, each bounded by the next larger one (docs/configuration.md, Network and limits). */
import { type BuildContext, number, record } from './build-context.js'
import { DEFAULTS, MIN_HEAD_BYTES } from './schema.js'
import type { LimitsConfig } from './types.js'

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
  }
}
