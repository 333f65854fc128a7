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
  return (fields) => {
    if (logger.levelVal > INFO) return
    const json = JSON.stringify(fields)
    destination.write(ACCESS_PREFIX + isoTime() + BASE_FIELDS + (json.length > 2 ? `,${json.slice(1, -1)}` : '') + ACCESS_SUFFIX)
  }
}

/** Log lines are written once this many bytes are waiting... */
export const LOG_BATCH_BYTES = 4096
/** ...or this often. */
export const LOG_FLUSH_MS = 200

/**
 * The process's standard output as a pino destination that never blocks
 * the request path: lines are written in batches (one system call for
 * many requests under load), at most LOG_FLUSH_MS late when traffic is
 * low. Flushed by `flushLogger` before the process exits.
 */
export function stdoutDestination (): DestinationStream {
  return pino.destination({ dest: 1, sync: false, minLength: LOG_BATCH_BYTES, periodicFlush: LOG_FLUSH_MS })
}

/** Waits until every line logged so far is written. */
export async function flushLogger (logger: Logger): Promise<void> {
  await new Promise<void>(resolve => { logger.flush(() => { resolve() }) })
}
