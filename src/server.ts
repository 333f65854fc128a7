/**
 * Process concerns only: config -> logger -> token provider -> apps ->
 * listen, reload (SIGHUP or a change of the configuration file), and a
 * graceful close. The environment it reads is given by the CLI (cli.ts).
 */
import { createHash } from 'node:crypto'
import { watch, type FSWatcher } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import type { Server as NetServer } from 'node:net'
import type { Server as TlsServer } from 'node:tls'
import type { FastifyInstance } from 'fastify'
import type { DestinationStream, Logger } from 'pino'
import { buildAdminApp } from './admin.js'
import { buildApp, instanceListener, readSessionSecret, readTlsFiles } from './app.js'
import { accountsByInstance } from './config/account-uses.js'
import { ConfigError, loadConfig } from './config/load.js'
import type { Config, ListenConfig, RedisStoreConfig } from './config/types.js'
import { SwitchableTokens } from './ims/switchable.js'
import { TokenProvider, type TokenProviderOptions } from './ims/token-provider.js'
import { Inventory } from './observability/inventory.js'
import type { SharedStore } from './store/redis-store.js'
import { createLogger, flushLogger, stdoutDestination } from './observability/logger.js'
import { ProxyMetrics } from './observability/metrics.js'
import type { ProxyControl } from './proxy/plugin.js'

/**
 * Changes of these keys need a restart: a reload keeps the running values
 * and says so. So does a change of an instance's own listener
 * (`campaigns.<name>.listen`, reported under that name); everything else
 * about the Campaign instances (`campaign`, `campaigns`, `defaultCampaign`)
 * is applied by a reload.
 */
export const RESTART_ONLY_KEYS = ['listen', 'admin', 'store'] as const
/** Quiet time after the last file event before a watched configuration is re-read. */
export const WATCH_DEBOUNCE_MS = 300

export type ReloadResult =
  | { readonly ok: true, readonly restartRequired: readonly string[], readonly tokensRenewed: boolean }
  | { readonly ok: false, readonly error: string }

export interface RunningServer {
  readonly app: FastifyInstance
  readonly admin: FastifyInstance
  readonly tokens: SwitchableTokens
  readonly metrics: ProxyMetrics
  readonly inventory: Inventory
  /** e.g. `http://127.0.0.1:8080` */
  readonly proxyUrl: string
  /** The URL of each Campaign instance's own listener (`campaigns.<name>.listen`), by instance name. */
  readonly campaignListenerUrls: ReadonlyMap<string, string>
  readonly adminUrl: string
  /** The configuration in force (changes with a successful reload). */
  readonly config: Config
  /**
   * Applies a new configuration without restart: integrations, sessions,
   * unknown callers, WSDL account, trusted proxies, limits, logging level;
   * IMS settings and technical accounts (a new token per account). An
   * invalid one is refused, logged with every problem, and the running one
   * kept.
   */
  reload (next: Config | (() => Promise<Config>)): Promise<ReloadResult>
  /** Readiness false, stop accepting, drain in-flight requests, release everything. */
  close (): Promise<void>
}

/** Clock and scheduler overrides for tests (defaults: real time). */
export type ServerTestHooks = Pick<TokenProviderOptions, 'now' | 'random' | 'timers'> & {
  /** Bound of each Campaign call made for a Logon's session info (default SESSION_INFO_TIMEOUT_MS). */
  readonly sessionInfoTimeoutMs?: number
}

/** Starts the proxy and admin listeners for a loaded configuration. */
export async function startServer (initial: Config, logger: Logger, hooks: ServerTestHooks = {}): Promise<RunningServer> {
  let config = initial
  let isShuttingDown = false
  // The token status is read lazily: the provider below is built with the metrics' token hook.
  const metrics = new ProxyMetrics({ tokens: { status: () => tokens.status() }, ...(hooks.now === undefined ? {} : { now: hooks.now }) })
  const { sessionInfoTimeoutMs, ...clock } = hooks
  const providerFor = (c: Config): TokenProvider => new TokenProvider({
    ...clock,
    ims: c.ims,
    accounts: [...c.technicalAccounts.values()],
    logger,
    onTokenRequest: (event) => { metrics.tokenRequest(event.account, event.outcome, event.durationMs) },
  })
  const tokens = new SwitchableTokens(providerFor(config))
  const inventory = new Inventory(config.integrations, hooks.now)
  const control: { current?: ProxyControl } = {}
  // Events between replicas are signed with a key derived from sessions.secret (the one secret every replica shares).
  const store = config.store.redis === undefined ? undefined : await sharedStore(config, await readSessionSecret(config), inventory, control, metrics, logger, hooks.now)
  const app = await buildApp({ config, tokens, logger, metrics, inventory, control, ...(hooks.now === undefined ? {} : { now: hooks.now }), ...(sessionInfoTimeoutMs === undefined ? {} : { sessionInfoTimeoutMs }), ...(store === undefined ? {} : { publish: event => { store.publish(event) } }) })
  const admin = await buildAdminApp({ tokens, logger, metrics, inventory, isShuttingDown: () => isShuttingDown, accountUses: () => accountsByInstance(config), ...(store === undefined ? {} : { store }) })
  const listeners = [...config.campaigns.values()].flatMap(instance => instance.listen === undefined ? [] : [{ name: instance.name, listen: instance.listen, server: instanceListener(app, config, instance.name) }])
  const closeListeners = async (): Promise<void> => {
    await Promise.all(listeners.map(async ({ server }) => { await new Promise(resolve => server.close(resolve)) }))
  }
  tokens.current.start()
  try {
    // Never waits for the store: the proxy serves with its own state until the store answers.
    await store?.start()
    await app.listen({ host: config.listen.host, port: config.listen.port })
    for (const { server, listen } of listeners) await listenOn(server, listen)
    await admin.listen({ host: config.admin.host, port: config.admin.port })
  } catch (err) {
    tokens.close()
    await Promise.allSettled([app.close(), admin.close(), closeListeners(), store?.close()])
    throw err
  }
  const campaignListenerUrls = new Map(listeners.map(({ name, server }) => [name, urlOf(server)]))
  logger.info({
    proxy: urlOf(app.server),
    admin: urlOf(admin.server),
    campaign: config.campaign.url,
    campaigns: [...config.campaigns.values()].map(instance => ({
      name: instance.name,
      url: instance.url,
      // Its own listener, else the main one (selected there by hosts, or as the default).
      listener: campaignListenerUrls.get(instance.name) ?? urlOf(app.server),
      hosts: instance.hosts,
      isDefault: instance.name === config.defaultCampaign,
    })),
    accounts: [...config.technicalAccounts.keys()],
  }, 'campaign-ims-proxy listening')

  let reloading = Promise.resolve<unknown>(undefined)
  const reloadOnce = async (source: Config | (() => Promise<Config>)): Promise<ReloadResult> => {
    let next: Config
    let sessionSecret: string | undefined
    try {
      next = typeof source === 'function' ? await source() : source
      sessionSecret = await readSessionSecret(next)
    } catch (err) {
      const error = err instanceof ConfigError ? err.message : `the configuration could not be read: ${(err as Error).message}`
      logger.error({ error }, 'configuration reload refused: the running configuration is kept')
      return { ok: false, error }
    }
    const restartRequired = restartOnlyChanges(next, config)
    if (restartRequired.length > 0) logger.warn({ keys: restartRequired }, 'configuration reload: these settings (listeners: listen, admin, an instance\'s own listen) change only with a restart; their running values are kept')
    const applied: Config = { ...next, listen: config.listen, admin: config.admin, campaigns: withRunningListeners(next.campaigns, config.campaigns) }
    const tls = config.listen.tls
    if (tls !== undefined) {
      // Same paths, maybe new files (certificate rotation): read them again.
      try {
        const files = readTlsFiles(tls)
        for (const server of [app.server, ...listeners.map(listener => listener.server)]) (server as unknown as TlsServer).setSecureContext(files)
      } catch (err) {
        const error = `the TLS certificate or key could not be read: ${(err as Error).message}`
        logger.error({ error }, 'configuration reload refused: the running configuration is kept')
        return { ok: false, error }
      }
    }
    const tokensRenewed = !isDeepStrictEqual(applied.ims, config.ims) || !isDeepStrictEqual(applied.technicalAccounts, config.technicalAccounts)
    if (tokensRenewed) tokens.switchTo(providerFor(applied))
    control.current?.reconfigure(applied, sessionSecret)
    store?.useSigningSecret(sessionSecret)
    logger.level = applied.logging.level
    config = applied
    logger.info({ integrations: applied.integrations.map(i => i.name), accounts: [...applied.technicalAccounts.keys()], tokensRenewed }, 'configuration reloaded')
    return { ok: true, restartRequired, tokensRenewed }
  }

  return {
    app,
    admin,
    tokens,
    metrics,
    inventory,
    proxyUrl: urlOf(app.server),
    campaignListenerUrls,
    adminUrl: urlOf(admin.server),
    get config () { return config },
    reload: async (source) => {
      // One reload at a time, in the order asked.
      const result = reloading.then(async () => await reloadOnce(source))
      reloading = result
      return await result
    },
    close: async () => {
      isShuttingDown = true
      await Promise.all([app.close(), closeListeners()])
      tokens.close()
      // After the last request: its counts and events are sent.
      await store?.close()
      await admin.close()
    },
  }
}

/** The shared store of `store.redis`, reporting through the logs and metrics; the proxy control applies what it reads. */
async function sharedStore (config: Config, signingSecret: string | undefined, inventory: Inventory, control: { current?: ProxyControl }, metrics: ProxyMetrics, logger: Logger, now: (() => number) | undefined): Promise<SharedStore> {
  const redis = config.store.redis as RedisStoreConfig
  // Loaded only with a store: a sidecar never loads the Redis client.
  const { SharedStore } = await import('./store/redis-store.js')
  return new SharedStore({
    config: redis,
    signingSecret,
    inventory,
    apply: event => { control.current?.applyClusterEvent(event) },
    // A Logoff must be known as long as its session could be presented; a lockout failure as long as it counts.
    catchUpMs: Math.max(config.sessions.ttlSeconds, config.lockout.windowSeconds) * 1000,
    observer: {
      failed: (operation, err) => {
        metrics.storeError(operation)
        logger.debug({ operation, error: err.message }, 'shared store operation failed: this replica goes on with its own state')
      },
      stateChanged: status => {
        metrics.storeUp(status.state === 'ok')
        if (status.state === 'ok') logger.info({ store: redactedUrl(redis.url) }, 'shared store reachable: state is shared with the other replicas')
        else logger.warn({ store: redactedUrl(redis.url), error: status.lastError }, 'shared store unreachable: Logoffs, lockout and inventory are this replica\'s own until it is back')
      },
      rejected: () => {
        metrics.storeError('unsigned_event')
        logger.warn('shared store: an event without this deployment\'s signature was ignored (another sessions.secret on the same keyPrefix, or a forged entry)')
      },
      event: (direction, kind) => { metrics.storeEvent(direction, kind) },
    },
    ...(now === undefined ? {} : { now }),
  })
}

/** A store URL for logs: without its password. */
function redactedUrl (url: string): string {
  const parsed = new URL(url)
  if (parsed.password !== '') parsed.password = 'redacted'
  return parsed.toString()
}

function urlOf (server: NetServer): string {
  const address = server.address()
  /* c8 ignore next -- a listening TCP server always has an address object */
  if (address === null || typeof address === 'string') return String(address)
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `${'setSecureContext' in server ? 'https' : 'http'}://${host}:${address.port}`
}

async function listenOn (server: NetServer, { host, port }: ListenConfig): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port }, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

/** Which restart-only settings `next` changes from `running`, named as the file names them. */
function restartOnlyChanges (next: Config, running: Config): string[] {
  const changed: string[] = RESTART_ONLY_KEYS.filter(key => !isDeepStrictEqual(next[key], running[key]))
  for (const name of new Set([...running.campaigns.keys(), ...next.campaigns.keys()])) {
    if (!isDeepStrictEqual(next.campaigns.get(name)?.listen, running.campaigns.get(name)?.listen)) changed.push(`campaigns.${name}.listen`)
  }
  return changed
}

/**
 * `next`'s instances with the listeners that are running: an instance's own
 * listener opens and closes only with a restart, so a reloaded instance
 * keeps the one it had (a new one has none until then: its `hosts` or
 * `defaultCampaign` reach it on the main listener).
 */
function withRunningListeners (next: Config['campaigns'], running: Config['campaigns']): Config['campaigns'] {
  return new Map([...next].map(([name, instance]) => [name, { ...instance, listen: running.get(name)?.listen }]))
}

/** Hex sha256 of a file's bytes, undefined when it cannot be read. */
async function fileHash (path: string): Promise<string | undefined> {
  try {
    return createHash('sha256').update(await readFile(path)).digest('hex')
  } catch {
    return undefined
  }
}

/**
 * Watches the configuration file's directory (a Kubernetes ConfigMap or
 * Secret volume swaps a `..data` symlink there rather than writing the file)
 * and calls `onChange` once the file's bytes differ from the last ones seen.
 */
export async function watchConfigFile (path: string, onChange: () => void, debounceMs = WATCH_DEBOUNCE_MS): Promise<{ close (): void }> {
  let last = await fileHash(path)
  let timer: NodeJS.Timeout | undefined
  const watcher: FSWatcher = watch(dirname(path), { persistent: false }, () => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      fileHash(path).then(hash => {
        if (hash === undefined || hash === last) return
        last = hash
        onChange()
      })
    }, debounceMs)
  })
  return {
    close: () => {
      clearTimeout(timer)
      watcher.close()
    },
  }
}

export interface ServeIo {
  readonly shutdown: Promise<unknown>
  readonly env: Readonly<Record<string, string | undefined>>
  readonly logStream: NodeJS.WritableStream
  /** Registers the reload trigger (the CLI: SIGHUP); returns its removal. */
  readonly onReloadSignal?: (reload: () => void) => () => void
}

/**
 * `serve --config FILE`: loads the configuration (`${VAR}` from `env`), logs
 * JSON lines to `logStream`, reloads on the reload signal or when the file
 * changes, and runs until `shutdown` resolves.
 */
export async function serve (configPath: string, io: ServeIo): Promise<void> {
  const config: Config = await loadConfig(configPath, io.env)
  // The real standard output gets a non-blocking destination (a sync write per access line costs ~20 % of a small call).
  const logger = createLogger(config.logging.level, io.logStream === process.stdout ? stdoutDestination() : io.logStream as DestinationStream)
  const server = await startServer(config, logger)
  const reload = (trigger: string) => (): void => {
    logger.info({ trigger }, 'reloading the configuration')
    // reload() reports its own failures (logged, running configuration kept).
    server.reload(async () => await loadConfig(configPath, io.env)).catch(/* c8 ignore next */ () => {})
  }
  const removeSignal = io.onReloadSignal?.(reload('signal'))
  const watcher = await watchConfigFile(configPath, reload('file change'))
  await io.shutdown
  removeSignal?.()
  watcher.close()
  logger.info('shutting down: readiness false, draining in-flight requests')
  await server.close()
  logger.info('stopped')
  await flushLogger(logger)
}
