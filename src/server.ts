/**
 * Process concerns only: config -> logger -> token provider -> apps ->
 * listen, and a graceful close. The only module that reads the environment.
 */
import type { FastifyInstance } from 'fastify'
import type { DestinationStream, Logger } from 'pino'
import { buildAdminApp } from './admin.js'
import { buildApp } from './app.js'
import { loadConfig } from './config/load.js'
import type { Config } from './config/types.js'
import { TokenProvider, type TokenProviderOptions } from './ims/token-provider.js'
import { createLogger } from './observability/logger.js'

export interface RunningServer {
  readonly app: FastifyInstance
  readonly admin: FastifyInstance
  readonly tokens: TokenProvider
  /** e.g. `http://127.0.0.1:8080` */
  readonly proxyUrl: string
  readonly adminUrl: string
  /** Readiness false, stop accepting, drain in-flight requests, release everything. */
  close (): Promise<void>
}

/** Clock and scheduler overrides for tests (defaults: real time). */
export type ServerTestHooks = Pick<TokenProviderOptions, 'now' | 'random' | 'timers' | 'onTokenRequest'>

/** Starts the proxy and admin listeners for a loaded configuration. */
export async function startServer (config: Config, logger: Logger, hooks: ServerTestHooks = {}): Promise<RunningServer> {
  const tokens = new TokenProvider({ ...hooks, ims: config.ims, accounts: [...config.technicalAccounts.values()], logger })
  let isShuttingDown = false
  const app = await buildApp({ config, tokens, logger, ...(hooks.now === undefined ? {} : { now: hooks.now }) })
  const admin = await buildAdminApp({ tokens, logger, isShuttingDown: () => isShuttingDown })
  tokens.start()
  try {
    await app.listen({ host: config.listen.host, port: config.listen.port })
    await admin.listen({ host: config.admin.host, port: config.admin.port })
  } catch (err) {
    tokens.close()
    await Promise.allSettled([app.close(), admin.close()])
    throw err
  }
  logger.info({ proxy: urlOf(app), admin: urlOf(admin), campaign: config.campaign.url, accounts: [...config.technicalAccounts.keys()] }, 'campaign-ims-proxy listening')
  return {
    app,
    admin,
    tokens,
    proxyUrl: urlOf(app),
    adminUrl: urlOf(admin),
    close: async () => {
      isShuttingDown = true
      await app.close()
      tokens.close()
      await admin.close()
    },
  }
}

function urlOf (app: FastifyInstance): string {
  const address = app.server.address()
  /* c8 ignore next -- a listening TCP server always has an address object */
  if (address === null || typeof address === 'string') return String(address)
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${host}:${address.port}`
}

/**
 * `serve --config FILE`: loads the configuration (`${VAR}` from `env`), logs
 * JSON lines to `logStream`, and runs until `shutdown` resolves.
 */
export async function serve (configPath: string, shutdown: Promise<unknown>, env: Readonly<Record<string, string | undefined>>, logStream: NodeJS.WritableStream): Promise<void> {
  const config: Config = await loadConfig(configPath, env)
  const logger = createLogger(config.logging.level, logStream as DestinationStream)
  const server = await startServer(config, logger)
  await shutdown
  logger.info('shutting down: readiness false, draining in-flight requests')
  await server.close()
  logger.info('stopped')
}
