/**
 * The simulators' HTTP plumbing: bounded body reading, fault application,
 * connection tracking, and a listener that can refuse connections and come
 * back on the same port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import type { FaultInjector } from './faults.js'

export interface SimResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | Buffer
}

export interface SimRequest {
  readonly raw: IncomingMessage
  readonly url: URL
  readonly body: Buffer
  readonly remoteAddress: string
}

export interface SimServerOptions {
  readonly host: string
  readonly port: number
  /** Bodies above this size are answered 413 without being processed. */
  readonly maxBodyBytes: number
  readonly faults: FaultInjector
  /** Names the SOAP method of a request so faults can target it. */
  readonly soapMethodOf?: (request: SimRequest) => string | undefined
  /** Sees every request whose body was read, before faults apply (so faulted requests are seen too). */
  readonly observe?: (request: SimRequest) => void
  readonly handle: (request: SimRequest) => Promise<SimResponse> | SimResponse
}

export class SimServer {
  readonly #options: SimServerOptions
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  /** Aborts the latency faults in progress when connections are dropped (`close()`, `refuseConnections(true)`). */
  #pending = new AbortController()
  #port: number
  #listening = false

  constructor (options: SimServerOptions) {
    this.#options = options
    this.#port = options.port
    this.#server = createServer((req, res) => {
      this.#serve(req, res).catch(() => req.socket.destroy())
    })
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket)
      socket.once('close', () => this.#sockets.delete(socket))
    })
  }

  /** The base URL, e.g. `http://127.0.0.1:39213`. */
  get url (): string {
    const host = this.#options.host.includes(':') ? `[${this.#options.host}]` : this.#options.host
    return `http://${host}:${this.#port}`
  }

  async listen (): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(this.#port, this.#options.host, () => {
        this.#server.off('error', reject)
        resolve()
      })
    })
    const address = this.#server.address()
    if (address !== null && typeof address === 'object') this.#port = address.port
    this.#listening = true
    return this
  }

  /**
   * `true` stops listening (new connections are refused by the OS) and drops
   * open connections, with the requests an injected latency is delaying:
   * their timers are cancelled, so nothing is left pending; `false` listens
   * again on the same port.
   */
  async refuseConnections (refuse: boolean): Promise<void> {
    if (refuse && this.#listening) {
      this.#listening = false
      this.#pending.abort()
      this.#pending = new AbortController()
      const closed = new Promise<void>(resolve => this.#server.close(() => resolve()))
      this.#destroySockets()
      await closed
    } else if (!refuse && !this.#listening) {
      await this.listen()
    }
  }

  async close (): Promise<void> {
    await this.refuseConnections(true)
  }

  #destroySockets (): void {
    for (const socket of this.#sockets) socket.destroy()
  }

  async #serve (req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Taken before the body is read: dropping the connections meanwhile aborts this request's latency too.
    const dropped = this.#pending.signal
    const body = await readBody(req, this.#options.maxBodyBytes)
    if (body === undefined) {
      res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' })
      res.end('Request body too large\n')
      return
    }
    const request: SimRequest = {
      raw: req,
      // A server-side IncomingMessage always has its url.
      url: new URL(req.url as string, 'http://simulator'),
      body,
      /* c8 ignore next -- remoteAddress is undefined only once the socket is destroyed */
      remoteAddress: req.socket.remoteAddress ?? '',
    }
    this.#options.observe?.(request)
    let response: SimResponse | undefined
    const faults = this.#options.faults.take({ path: request.url.pathname, soapMethod: this.#options.soapMethodOf?.(request) })
    for (const fault of faults) {
      switch (fault.kind) {
        case 'latency':
          // Rejects once the connections are dropped; the caller of #serve then destroys this one.
          await delay(fault.ms, undefined, { signal: dropped })
          break
        case 'reset':
          req.socket.destroy()
          return
        case 'status':
          response ??= { status: fault.status, headers: { 'content-type': 'text/plain', ...fault.headers }, body: fault.body ?? `Simulated ${fault.status}\n` }
          break
        case 'malformed':
          response ??= { status: 200, headers: { 'content-type': 'application/json' }, body: '{"access_token":"eyJ' }
          break
        case 'reset-mid-response': {
          const normal = await this.#options.handle(request)
          const bytes = Buffer.from(normal.body)
          res.writeHead(normal.status, { ...normal.headers, 'content-length': String(bytes.length) })
          res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => req.socket.destroy())
          return
        }
      }
    }
    try {
      response ??= await this.#options.handle(request)
    } catch (err) {
      response = { status: 500, headers: { 'content-type': 'text/plain' }, body: `Simulator error: ${(err as Error).message}\n` }
    }
    res.writeHead(response.status, { 'content-length': String(Buffer.byteLength(response.body)), ...response.headers })
    res.end(response.body)
  }
}

/** Reads a body up to `limit` bytes; undefined (and the rest discarded) when larger. */
async function readBody (req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  let tooLarge = false
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) tooLarge = true
    if (!tooLarge) chunks.push(chunk as Buffer)
  }
  return tooLarge ? undefined : Buffer.concat(chunks)
}
