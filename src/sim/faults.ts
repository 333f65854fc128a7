/**
 * Fault injection shared by the simulators.
 *
 * A fault either fires for the next N matching requests (`inject`) or for
 * every matching request until cleared (`always`). Tests drive them to
 * rehearse IMS or Campaign misbehaving; users drive them through
 * `simulate`'s options.
 */
export type Fault =
  /** Delay the response by this many milliseconds, then answer normally; `close()` or `refuseConnections(true)` cancels the delay and drops the request. */
  | { readonly kind: 'latency', readonly ms: number }
  /** Answer this status (5xx, 429...) with an optional body and headers, e.g. `Retry-After`. */
  | { readonly kind: 'status', readonly status: number, readonly body?: string, readonly headers?: Readonly<Record<string, string>> }
  /** Answer 200 with a truncated, unparseable body. */
  | { readonly kind: 'malformed' }
  /** Destroy the connection without answering. */
  | { readonly kind: 'reset' }
  /** Send the status line, headers and half of the normal body, then destroy the connection. */
  | { readonly kind: 'reset-mid-response' }

/** Restricts a fault to some requests: a URL path and/or a SOAP method `urn#Method` (e.g. `xtk:session#Logon`). */
export interface FaultMatch {
  readonly path?: string
  readonly soapMethod?: string
}

interface Armed {
  readonly fault: Fault
  readonly match: FaultMatch
  remaining: number
}

export interface FaultTarget {
  readonly path: string
  readonly soapMethod?: string | undefined
}

export class FaultInjector {
  readonly #armed: Armed[] = []

  /** Fires `fault` for the next `times` matching requests (default 1). */
  inject (fault: Fault, options: FaultMatch & { times?: number } = {}): void {
    const { times = 1, ...match } = options
    if (!Number.isInteger(times) || times < 1) throw new RangeError('times must be a positive integer')
    this.#armed.push({ fault, match, remaining: times })
  }

  /** Fires `fault` for every matching request until `clear()`. */
  always (fault: Fault, match: FaultMatch = {}): void {
    this.#armed.push({ fault, match, remaining: Number.POSITIVE_INFINITY })
  }

  clear (): void {
    this.#armed.length = 0
  }

  /** Faults that apply to this request, in the order armed; one-shot ones are consumed. */
  take (target: FaultTarget): Fault[] {
    const out: Fault[] = []
    for (const armed of this.#armed) {
      if (!matches(armed.match, target)) continue
      out.push(armed.fault)
      armed.remaining -= 1
    }
    for (let i = this.#armed.length - 1; i >= 0; i--) {
      if ((this.#armed[i] as Armed).remaining <= 0) this.#armed.splice(i, 1)
    }
    return out
  }
}

function matches (match: FaultMatch, target: FaultTarget): boolean {
  if (match.path !== undefined && match.path !== target.path) return false
  if (match.soapMethod !== undefined && match.soapMethod !== target.soapMethod) return false
  return true
}

/** HTTP 429 with `Retry-After` (seconds), as an API gateway throttling a client answers. */
export function rateLimited (retryAfterSeconds: number): Fault {
  return {
    kind: 'status',
    status: 429,
    headers: { 'retry-after': String(retryAfterSeconds), 'content-type': 'application/json' },
    body: '{"error_code":"429050","message":"Too many requests"}',
  }
}
