/**
 * The per-request logger, made when the request first logs. Fastify gives
 * every request a child logger bound to its id; most requests never log
 * (their access line is written apart, logger.ts `accessLogger`), and a
 * pino child per request was about 2 % of a small call's CPU.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions } from 'pino'

type Method = (...args: unknown[]) => void

export class RequestLogger implements FastifyBaseLogger {
  readonly #parent: FastifyBaseLogger
  readonly #bindings: Bindings
  readonly #options: ChildLoggerOptions
  #child: FastifyBaseLogger | undefined

  constructor (parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent
    this.#bindings = bindings
    this.#options = options
  }

  #logger (): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options)
    return this.#child
  }

  get level (): string {
    return (this.#child ?? this.#parent).level
  }

  set level (level: string) {
    this.#logger().level = level
  }

  fatal (...args: unknown[]): void { (this.#logger().fatal as Method)(...args) }
  error (...args: unknown[]): void { (this.#logger().error as Method)(...args) }
  warn (...args: unknown[]): void { (this.#logger().warn as Method)(...args) }
  info (...args: unknown[]): void { (this.#logger().info as Method)(...args) }
  debug (...args: unknown[]): void { (this.#logger().debug as Method)(...args) }
  trace (...args: unknown[]): void { (this.#logger().trace as Method)(...args) }
  silent (): void {}

  child (bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#logger().child(bindings, options)
  }
}

/** Fastify's `childLoggerFactory`: a RequestLogger for each request. */
export function requestLoggerFactory (logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new RequestLogger(logger, bindings, options)
}
