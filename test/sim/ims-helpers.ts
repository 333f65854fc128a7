// Shared fixtures for the IMS simulator contract tests (not a test file itself).
import type { Test } from 'tap'
import { ImsSimulator, type ImsSimulatorOptions } from '../../src/sim/ims.js'

export const CLIENT_ID = 'acme-campaign-client'
export const SECRET = 's3cr3t-value'
export const SCOPES = ['AdobeID', 'openid', 'campaign_sdk'] as const
export const CLIENT = { clientId: CLIENT_ID, secrets: [SECRET], scopes: [...SCOPES] }
/** 2026-11-23T09:00:00.000Z, a fixed instant for the injected clock. */
export const T0 = Date.UTC(2026, 10, 23, 9, 0, 0)

export interface Clock {
  now: () => number
  set: (ms: number) => void
  advance: (ms: number) => void
}

export function fakeClock (start = T0): Clock {
  let clock = start
  return { now: () => clock, set: (ms) => { clock = ms }, advance: (ms) => { clock += ms } }
}

/** Starts a simulator on a loopback ephemeral port, closed when the test ends. */
export async function startIms (t: Test, options: Partial<ImsSimulatorOptions> = {}): Promise<ImsSimulator> {
  const sim = await ImsSimulator.start({ host: '127.0.0.1', port: 0, clients: [CLIENT], ...options })
  t.teardown(() => sim.close())
  return sim
}

export const VALID_FORM: Readonly<Record<string, string>> = {
  grant_type: 'client_credentials',
  client_id: CLIENT_ID,
  client_secret: SECRET,
  scope: SCOPES.join(','),
}

/** POSTs `fields` form-encoded to the token endpoint, as a client library does. */
export function postToken (sim: ImsSimulator, fields: Readonly<Record<string, string>> = VALID_FORM): Promise<Response> {
  return fetch(sim.tokenUrl, { method: 'POST', body: new URLSearchParams(fields) })
}

export interface TokenResponse { access_token: string, token_type: string, expires_in: number }

export function decodeSegment (segment: string | undefined): unknown {
  return JSON.parse(Buffer.from(segment ?? '', 'base64url').toString('utf8'))
}

/** Splits a JWT and decodes its header and payload (base64url JSON). */
export function decodeJwt (token: string): { header: unknown, payload: Record<string, unknown>, parts: string[] } {
  const parts = token.split('.')
  return { header: decodeSegment(parts[0]), payload: decodeSegment(parts[1]) as Record<string, unknown>, parts }
}
