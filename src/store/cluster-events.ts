/**
 * What replicas tell each other through the shared store
 * (docs/deployment.md#several-replicas-sharing-state): a Logoff, a failed
 * or successful password check (the lockout), a passthrough session Campaign
 * issued (its digest, never the token). Each event is applied to the
 * receiving replica's own structures, so the request path never waits for
 * the store.
 */
import type { ProxySession } from '../auth/sessions.js'

export type ClusterEvent =
  | { readonly kind: 'revoked', readonly session: ProxySession }
  | { readonly kind: 'failed', readonly login: string, readonly address: string, readonly at: number }
  | { readonly kind: 'succeeded', readonly login: string, readonly address: string, readonly at: number }
  | { readonly kind: 'remembered', readonly digest: string, readonly integration: string | undefined, readonly login: string | undefined, readonly at: number }

/** Where events from other replicas are applied. */
export type ApplyClusterEvent = (event: ClusterEvent) => void

/** Longest text field accepted in an event read from the store (logins, addresses, names are far shorter). */
const MAX_FIELD = 1024

export function encodeEvent (event: ClusterEvent): string {
  return JSON.stringify(event)
}

/** The event in `text`, or undefined when it is not one this version writes (another version, or damage). */
export function decodeEvent (text: string): ClusterEvent | undefined {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof data !== 'object' || data === null) return undefined
  const e = data as Record<string, unknown>
  switch (e.kind) {
    case 'revoked': {
      const s = (typeof e.session === 'object' && e.session !== null ? e.session : {}) as Record<string, unknown>
      if (!isText(s.integration) || !isText(s.id) || !isTime(s.issuedAt) || !isTime(s.expiresAt) || typeof s.generation !== 'string' || s.generation.length > MAX_FIELD) return undefined
      return { kind: 'revoked', session: { integration: s.integration, id: s.id, issuedAt: s.issuedAt, expiresAt: s.expiresAt, generation: s.generation } }
    }
    case 'failed':
    case 'succeeded':
      if (!isText(e.login) || !isText(e.address) || !isTime(e.at)) return undefined
      return { kind: e.kind, login: e.login, address: e.address, at: e.at }
    case 'remembered':
      if (!isText(e.digest) || !isTime(e.at) || !(e.integration === undefined || isText(e.integration)) || !(e.login === undefined || isText(e.login))) return undefined
      return { kind: 'remembered', digest: e.digest, integration: e.integration, login: e.login, at: e.at }
    default:
      return undefined
  }
}

function isText (value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_FIELD
}

function isTime (value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
}
