/**
 * Admission (docs/reliability.md#admission): how many requests are in
 * progress at once, per integration, for the unidentified callers
 * together, and for the whole process. A request over a limit waits in a
 * bounded first-come-first-served queue and is refused (503 with
 * `Retry-After`, naming the integration) only when the queue is full or
 * its wait passes `limits.queueTimeoutSeconds`: a burst that Campaign
 * would take is queued, not refused. A slot is held until the client's
 * response closes; a client that leaves while waiting gives up its place.
 */
import type { ServerResponse } from 'node:http'
import type { LimitsConfig } from '../config/types.js'
import type { ProxyMetrics } from '../observability/metrics.js'
import { ProxyFault } from '../soap/faults.js'

/** The budget name of callers no integration is attributed to. */
const UNIDENTIFIED = '(unidentified)'

interface Waiter {
  readonly admit: () => void
}

/** One limit with its queue. */
class Gate {
  active = 0
  readonly queue: Waiter[] = []

  release (): void {
    const next = this.queue.shift()
    if (next === undefined) this.active--
    else next.admit()
  }
}

export type AdmissionLimits = Pick<LimitsConfig, 'maxConcurrentRequests' | 'queueDepth' | 'queueTimeoutSeconds' | 'maxConcurrentRequestsTotal' | 'maxUnidentifiedRequests' | 'maxPipelinedRequests'>

export class Admission {
  readonly #gates = new Map<string, Gate>()
  readonly #process = new Gate()
  /** Requests in progress per connection: a client pipelining cannot take more than limits.maxPipelinedRequests at once. */
  readonly #perConnection = new WeakMap<object, number>()
  readonly #metrics: ProxyMetrics

  constructor (metrics: ProxyMetrics) {
    this.#metrics = metrics
  }

  /**
   * Takes a slot for `integration` (undefined: the unidentified callers'
   * budget) and one of the process, until `response` closes. Resolves at
   * once when both are free (no promise then: the common case costs
   * nothing), else when they are; rejects with the `overloaded` fault.
   */
  enter (integration: string | undefined, limits: AdmissionLimits, response: ServerResponse): Promise<void> | undefined {
    const name = integration ?? UNIDENTIFIED
    let gate = this.#gates.get(name)
    if (gate === undefined) {
      gate = new Gate()
      this.#gates.set(name, gate)
    }
    const own = gate
    const limit = integration === undefined ? limits.maxUnidentifiedRequests : limits.maxConcurrentRequests
    const connection = response.req.socket
    const pipelined = this.#perConnection.get(connection) ?? 0
    if (pipelined >= limits.maxPipelinedRequests) throw this.#refusal(name, `${pipelined} requests in progress on this connection (limits.maxPipelinedRequests)`)
    this.#perConnection.set(connection, pipelined + 1)
    let held = 0
    response.once('close', () => {
      this.#perConnection.set(connection, (this.#perConnection.get(connection) as number) - 1)
      if (held >= 1) this.#releaseOwn(name, own)
      if (held === 2) this.#process.release()
    })
    const takeProcess = (): Promise<void> | undefined => {
      const wait = this.#take(this.#process, limits.maxConcurrentRequestsTotal, limits, name, response)
      if (wait === undefined) {
        held = 2
        return undefined
      }
      return wait.then(() => { held = 2 })
    }
    const wait = this.#take(own, limit, limits, name, response)
    if (wait === undefined) {
      held = 1
      return takeProcess()
    }
    return wait.then(() => {
      held = 1
      return takeProcess()
    })
  }

  #releaseOwn (name: string, gate: Gate): void {
    gate.release()
    if (gate.active === 0 && gate.queue.length === 0) this.#gates.delete(name)
  }

  /** undefined when a slot was free (taken), else a promise of one. */
  #take (gate: Gate, limit: number, limits: AdmissionLimits, name: string, response: ServerResponse): Promise<void> | undefined {
    if (gate.active < limit) {
      gate.active++
      return undefined
    }
    const scope = gate === this.#process ? 'the proxy' : name === UNIDENTIFIED ? 'unidentified callers' : `integration ${name}`
    const label = gate === this.#process ? '(process)' : name
    if (gate.queue.length >= limits.queueDepth) return Promise.reject(this.#refusal(name, `${gate.active} requests of ${scope} in progress and ${gate.queue.length} waiting (limits.queueDepth)`))
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        remove()
        reject(this.#refusal(name, `${gate.active} requests of ${scope} in progress: no slot within limits.queueTimeoutSeconds (${limits.queueTimeoutSeconds} s)`))
      }, limits.queueTimeoutSeconds * 1000)
      const onClose = (): void => {
        // The client left while waiting: its place goes to the next one.
        remove()
        reject(new Error('the client closed the connection while waiting for a slot'))
      }
      const waiter: Waiter = {
        admit: () => {
          clearTimeout(timer)
          response.off('close', onClose)
          this.#metrics.queued(label, -1)
          resolve()
        },
      }
      const remove = (): void => {
        clearTimeout(timer)
        response.off('close', onClose)
        gate.queue.splice(gate.queue.indexOf(waiter), 1)
        this.#metrics.queued(label, -1)
      }
      response.once('close', onClose)
      gate.queue.push(waiter)
      this.#metrics.queued(label, 1)
    })
  }

  #refusal (name: string, detail: string): ProxyFault {
    this.#metrics.concurrencyRejection(name)
    return new ProxyFault('overloaded', { detail, retryAfterSeconds: 1 })
  }
}
