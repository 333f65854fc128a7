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
    timestamp: pino.stdTimeFunctions.isoTime,
  }, destination)
}

/**
 * The logger of the per-request access line: the same destination, shape
 * and level as `logger` (it follows level changes), without redaction.
 * The access line is built field by field from values that are never
 * secret (names, codes, token fingerprints); walking the redaction paths
 * over it cost about a tenth of a small call's CPU.
 */
export function accessLogger (logger: Logger): Logger {
  const access = pino({ level: logger.level, base: BASE, timestamp: pino.stdTimeFunctions.isoTime }, (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym])
  logger.on('level-change', (level) => { access.level = level })
  return access
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
