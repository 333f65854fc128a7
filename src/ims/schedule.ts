/**
 * When to ask IMS next: the refresh point of a held token, and the capped
 * exponential backoff after failures. Pure; randomness is injected.
 */

/** Up to this share of a token's lifetime is taken off its refresh point, so replicas started together spread out. */
export const REFRESH_JITTER_RATIO = 0.05

export interface BackoffConfig {
  readonly initialSeconds: number
  readonly maxSeconds: number
}

/**
 * Delay before retry number `failures` (1 for the first failure):
 * `initialSeconds * 2^(failures-1)` capped at `maxSeconds`, with "equal
 * jitter" (half fixed, half random) so retries spread out but never bunch
 * up near zero.
 */
export function backoffDelayMs (failures: number, backoff: BackoffConfig, random: () => number): number {
  const ceiling = Math.min(backoff.maxSeconds, backoff.initialSeconds * 2 ** (failures - 1)) * 1000
  return Math.round(ceiling / 2 + random() * ceiling / 2)
}

export interface RefreshPlan {
  readonly obtainedAt: number
  readonly expiresAt: number
  readonly refreshRatio: number
  readonly expirySkewMs: number
}

/**
 * The instant to refresh a token: `refreshRatio` of its lifetime, minus up to
 * REFRESH_JITTER_RATIO of it, and never later than expiry minus the skew
 * (the moment it stops being served).
 */
export function refreshAt ({ obtainedAt, expiresAt, refreshRatio, expirySkewMs }: RefreshPlan, random: () => number): number {
  const lifetime = expiresAt - obtainedAt
  const planned = obtainedAt + refreshRatio * lifetime - random() * REFRESH_JITTER_RATIO * lifetime
  return Math.round(Math.min(planned, expiresAt - expirySkewMs))
}
