/**
 * The admin listener, on its own port, never on the proxy's: liveness and
 * readiness for orchestrators.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'

export interface ReadinessSource {
  isReady (): boolean
  status (): ReadonlyArray<{ readonly account: string, readonly hasToken: boolean, readonly expiresAt?: number, readonly lastError?: string }>
}

export interface AdminOptions {
  readonly tokens: ReadinessSource
  readonly logger: FastifyBaseLogger
  /** True once shutdown started: readiness turns false before the proxy stops accepting. */
  readonly isShuttingDown: () => boolean
}

export async function buildAdminApp ({ tokens, logger, isShuttingDown }: AdminOptions): Promise<FastifyInstance> {
  const admin = Fastify({ loggerInstance: logger.child({ listener: 'admin' }), logController: new LogController({ disableRequestLogging: true }) })
  admin.get('/livez', async () => ({ status: 'ok' }))
  admin.get('/readyz', async (_request, reply) => {
    const accounts = tokens.status().map(s => ({
      account: s.account,
      hasToken: s.hasToken,
      ...(s.expiresAt === undefined ? {} : { expiresAt: new Date(s.expiresAt).toISOString() }),
      ...(s.lastError === undefined ? {} : { lastError: s.lastError }),
    }))
    const isReady = !isShuttingDown() && tokens.isReady()
    return reply.code(isReady ? 200 : 503).send({ status: isReady ? 'ready' : 'not ready', accounts })
  })
  return admin
}
