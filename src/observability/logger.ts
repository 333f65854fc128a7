/**
 * The one pino logger configuration: JSON lines, redaction configured once.
 * Tokens, passwords, secrets and session credentials never reach a log line;
 * token fingerprints do.
 */
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino'

/** Paths pino replaces with `[redacted]`, wherever a request, a header set or a config object is logged. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-session-token"]',
  'req.headers["x-security-token"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-session-token"]',
  'headers["x-security-token"]',
  '*.clientSecret',
  '*.password',
  '*.secret',
  '*.token',
  '*.accessToken',
  'clientSecret',
  'password',
  'secret',
  'token',
  'accessToken',
]

const BASE = { service: 'campaign-ims-proxy' } as const

export function createLogger (level: LevelWithSilent, destination?: DestinationStream): Logger {
  return pino({
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: BASE,
    timestamp: isoTime,
  }, destination)
}

let timeMs = -1
let timeField = ''

/**
 * pino's `isoTime` field, formatted once per millisecond: under load many
 * lines share one (`Date#toISOString` was about 1 % of a small call).
 */
export function isoTime (): string {
  const ms = Date.now()
  if (ms !== timeMs) {
    timeMs = ms
    timeField = `,"time":"${new Date(ms).toISOString()}"`
  }
  return timeField
}

/** Writes one access line: `fields` become the line's keys, undefined ones left out. */
export type AccessLog = (fields: Readonly<Record<string, string | number | undefined>>) => void

const INFO = 30
const ACCESS_PREFIX = `{"level":${INFO}`
const ACCESS_SUFFIX = ',"msg":"request"}\n'
const BASE_FIELDS = `,${JSON.stringify(BASE).slice(1, -1)}`

/**
 * The per-request access line, written to `logger`'s destination in
 * pino's shape (level, time, service, the fields, msg) while `logger` is
 * at info or below. No redaction and no pino on the way: the line is built
 * field by field from values that are never secret (names, codes, token
 * fingerprints), and one JSON.stringify of them costs a fraction of
 * pino's walk (redaction over it was about a tenth of a small call's CPU,
 * pino's serialiser without it about 3 %).
 */
export function accessLogger (logger: Logger): AccessLog {
  const destination = (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym] as DestinationStream
  if (destination instanceof BatchedDestination) {
    return (fields) => {
      if (logger.levelVal <= INFO) destination.writeAccess(isoTime(), fields)
    }
  }
  return (fields) => {
    if (logger.levelVal <= INFO) destination.write(accessLine(isoTime(), fields))
  }
}

/** Fields of an access line, with the time it was logged at, waiting in a batch to be formatted. */
interface PendingAccess {
  readonly time: string
  readonly fields: Readonly<Record<string, string | number | undefined>>
}

/** What one access line counts for in a batch's size before it is formatted (a small call's is about 480 characters). */
const ACCESS_LINE_CHARS = 512

function accessLine (time: string, fields: PendingAccess['fields']): string {
  const json = JSON.stringify(fields)
  return ACCESS_PREFIX + time + BASE_FIELDS + (json.length > 2 ? `,${json.slice(1, -1)}` : '') + ACCESS_SUFFIX
}

/** Log lines are written once this many characters are waiting (about 160 access lines)... */
export const LOG_BATCH_CHARS = 65_536
/** ...or this often. */
export const LOG_FLUSH_MS = 200

/**
 * The process's standard output as a pino destination that never blocks
 * the request path: lines are written in batches (one system call for
 * many requests under load), at most LOG_FLUSH_MS late when traffic is
 * low. Flushed by `flushLogger` before the process exits.
 */
export function stdoutDestination (): DestinationStream {
  // minLength 1: sonic-boom writes each batch as it comes, and its flush waits for the write.
  const destination = new BatchedDestination(pino.destination({ dest: 1, sync: false, minLength: 1 }), LOG_BATCH_CHARS, LOG_FLUSH_MS)
  // What waits is written when the process exits without flushLogger (a crash), as sonic-boom does with its own.
  process.once('exit', () => { destination.flushSync() })
  return destination
}

/** The part of pino's destination (sonic-boom) a batch is handed to. */
export interface BatchTarget {
  write (text: string): boolean
  flush (callback: (err?: Error) => void): void
  flushSync (): void
}

/** The part of Node's Timeout a batch's flush timer needs. */
export interface FlushTimer {
  unref (): unknown
  close (): unknown
}

/**
 * Gathers lines, in the order they are written, and hands them on as one
 * string once LOG_BATCH_CHARS characters wait or LOG_FLUSH_MS after the
 * first. sonic-boom's own batching measures the UTF-8 length of
 * everything already waiting on every write (about 8 µs per access line);
 * here each line is added to a list, and the fewer, larger writes leave
 * the libuv thread pool and the cores to the requests (with the access
 * line, about 5 % of a small call's CPU, docs/benchmarks.md).
 */
export class BatchedDestination implements DestinationStream {
  readonly #target: BatchTarget
  readonly #batchChars: number
  readonly #flushMs: number
  #lines: Array<string | PendingAccess> = []
  #chars = 0
  readonly #later: (run: () => void, ms: number) => FlushTimer
  #timer: FlushTimer | undefined

  /** `later` schedules the flush of a batch that is not full (tests give their own). */
  constructor (target: BatchTarget, batchChars: number, flushMs: number, later: (run: () => void, ms: number) => FlushTimer = setTimeout) {
    this.#target = target
    this.#batchChars = batchChars
    this.#flushMs = flushMs
    this.#later = later
  }

  write (line: string): boolean {
    return this.#add(line, line.length)
  }

  /**
   * An access line, formatted when its batch is handed on: in one loop
   * over the batch instead of on the request path (measured: less CPU per
   * call under load), in its place among the other lines.
   */
  writeAccess (time: string, fields: PendingAccess['fields']): boolean {
    return this.#add({ time, fields }, ACCESS_LINE_CHARS)
  }

  #add (entry: string | PendingAccess, chars: number): boolean {
    this.#lines.push(entry)
    this.#chars += chars
    if (this.#chars >= this.#batchChars) this.#handOn()
    else if (this.#timer === undefined) {
      this.#timer = this.#later(() => { this.#handOn() }, this.#flushMs)
      this.#timer.unref()
    }
    return true
  }

  /** Hands on what waits, then calls back once it is written. */
  flush (callback: (err?: Error) => void): void {
    this.#handOn()
    this.#target.flush(callback)
  }

  flushSync (): void {
    this.#handOn()
    this.#target.flushSync()
  }

  #handOn (): void {
    this.#timer?.close()
    this.#timer = undefined
    if (this.#lines.length === 0) return
    const text = this.#lines.map(entry => typeof entry === 'string' ? entry : accessLine(entry.time, entry.fields)).join('')
    this.#lines = []
    this.#chars = 0
    this.#target.write(text)
  }
}

/** Waits until every line logged so far is written. */
export async function flushLogger (logger: Logger): Promise<void> {
  await new Promise<void>(resolve => { logger.flush(() => { resolve() }) })
}
