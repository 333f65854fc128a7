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

export function createLogger (level: LevelWithSilent, destination?: DestinationStream): Logger {
  return pino({
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'campaign-ims-proxy' },
    timestamp: pino.stdTimeFunctions.isoTime,
  }, destination)
}

/**
 * The process's standard output as a pino destination that never blocks
 * the request path: lines written while a write is in progress are sent
 * together (one system call under load instead of one per request).
 * Flushed by `flushLogger` before the process exits.
 */
export function stdoutDestination (): DestinationStream {
  return pino.destination({ dest: 1, sync: false })
}

/** Waits until every line logged so far is written. */
export async function flushLogger (logger: Logger): Promise<void> {
  await new Promise<void>(resolve => { logger.flush(() => { resolve() }) })
}
