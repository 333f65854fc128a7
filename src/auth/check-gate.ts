/**
 * How many password checks (scrypt runs) are in progress at once, so a
 * flood of logons cannot take libuv's thread pool (4 threads by default,
 * shared with DNS lookups and file reads) and delay everyone else's
 * (docs/legacy-sessions.md#lockout). Checks over the limit wait in one
 * queue per login, served in turn (round robin), so a flood on one login
 * delays another login's check by one scrypt run per flooding login at
 * most; the queues are bounded, overall and per login, and a check that
 * does not fit is refused at once.
 */

export const CHECK_GATE_DEFAULTS = { maxConcurrent: 2, queueDepth: 32, queueDepthPerLogin: 8 } as const

export interface CheckGateLimits {
  /** scrypt runs at once. */
  readonly maxConcurrent: number
  /** Checks waiting, all logins together. */
  readonly queueDepth: number
  /** Checks waiting for one login. */
  readonly queueDepthPerLogin: number
}

export interface CheckGateState {
  readonly running: number
  readonly queued: number
}

export class CheckGate {
  #limits: CheckGateLimits
  #running = 0
  #queued = 0
  /** Waiting checks by login; the map's order is the turn order. */
  readonly #queues = new Map<string, Array<() => void>>()
  readonly #onChange: (state: CheckGateState) => void

  constructor (limits: CheckGateLimits = CHECK_GATE_DEFAULTS, onChange: (state: CheckGateState) => void = () => {}) {
    this.#limits = limits
    this.#onChange = onChange
  }

  /** New limits (a reload): a raised limit starts waiting checks at once; checks in progress are not stopped by a lowered one. */
  configure (limits: CheckGateLimits): void {
    this.#limits = limits
    this.#drain()
    this.#onChange(this.state)
  }

  get state (): CheckGateState {
    return { running: this.#running, queued: this.#queued }
  }

  /** Whether a check of `login` would run or wait now (rather than be refused). */
  admits (login: string): boolean {
    if (this.#running < this.#limits.maxConcurrent) return true
    return this.#queued < this.#limits.queueDepth && (this.#queues.get(login)?.length ?? 0) < this.#limits.queueDepthPerLogin
  }

  /** Runs `task` at once or in its turn; call it only when `admits(login)`, in the same tick. */
  async run<T> (login: string, task: () => Promise<T>): Promise<T> {
    if (this.#running < this.#limits.maxConcurrent) {
      this.#running++
      this.#onChange(this.state)
    } else {
      await new Promise<void>(resolve => { this.#enqueue(login, resolve) })
    }
    try {
      return await task()
    } finally {
      this.#running--
      this.#drain()
      this.#onChange(this.state)
    }
  }

  #enqueue (login: string, start: () => void): void {
    const queue = this.#queues.get(login)
    if (queue === undefined) this.#queues.set(login, [start])
    else queue.push(start)
    this.#queued++
    this.#onChange(this.state)
  }

  /** Starts waiting checks while there is room, one login after the other. */
  #drain (): void {
    for (const [login, queue] of this.#queues) {
      if (this.#running >= this.#limits.maxConcurrent) return
      const start = queue.shift() as () => void
      // The login goes to the end of the turn order (or leaves it when it has nothing left waiting).
      this.#queues.delete(login)
      if (queue.length > 0) this.#queues.set(login, queue)
      this.#queued--
      this.#running++
      start()
    }
  }
}
