/**
 * Per-integration concurrency: a request of an integration that already
 * has `limit` requests in progress is refused (429 with `Retry-After`);
 * the slot is held until the client's response is closed.
 */
import type { ServerResponse } from 'node:http'
import type { ProxyMetrics } from '../observability/metrics.js'
import { ProxyFault } from '../soap/faults.js'

export class Admission {
  readonly #inFlight = new Map<string, number>()
  readonly #metrics: ProxyMetrics

  constructor (metrics: ProxyMetrics) {
    this.#metrics = metrics
  }

  /** Takes a slot of `integration` until `response` closes; throws the `tooManyRequests` fault when none is free. */
  enter (integration: string, limit: number, response: ServerResponse): void {
    const active = this.#inFlight.get(integration) ?? 0
    if (active >= limit) {
      this.#metrics.concurrencyRejection(integration)
      throw new ProxyFault('tooManyRequests', { detail: `${active} requests of integration ${integration} in progress`, retryAfterSeconds: 1 })
    }
    this.#inFlight.set(integration, active + 1)
    response.once('close', () => {
      const left = (this.#inFlight.get(integration) as number) - 1
      if (left === 0) this.#inFlight.delete(integration)
      else this.#inFlight.set(integration, left)
    })
  }
}
