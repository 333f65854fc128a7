/**
 * The admin listener, on its own port, never on the proxy's: liveness and
 * readiness for orchestrators, Prometheus metrics, the migration
 * inventory, and at `/` the migration status page for people
 * (docs/operations.md#migration-status-page).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { AccountUses } from './config/account-uses.js'
import type { Inventory, InventoryReport } from './observability/inventory.js'
import type { ProxyMetrics } from './observability/metrics.js'
import { renderStatusPage, STATUS_PAGE_HEADERS } from './observability/status-page.js'
import type { SharedStore } from './store/redis-store.js'

export interface ReadinessSource {
  isReady (): boolean
  status (): ReadonlyArray<{ readonly account: string, readonly hasToken: boolean, readonly expiresAt?: number | undefined, readonly lastError?: string | undefined }>
}

export interface AdminOptions {
  readonly tokens: ReadinessSource
  readonly logger: FastifyBaseLogger
  readonly metrics: ProxyMetrics
  readonly inventory: Inventory
  /** True once shutdown started: readiness turns false before the proxy stops accepting. */
  readonly isShuttingDown: () => boolean
  /** The accounts each Campaign instance is called with, under the configuration in force (it changes with a reload). */
  readonly accountUses: () => AccountUses
  /** The shared store (`store.redis`): `/integrations` shows the cluster, `/readyz` the store's state. */
  readonly store?: Pick<SharedStore, 'inventory' | 'status'>
}

export async function buildAdminApp ({ tokens, logger, metrics, inventory, isShuttingDown, accountUses, store }: AdminOptions): Promise<FastifyInstance> {
  const admin = Fastify({ loggerInstance: logger.child({ listener: 'admin' }), logController: new LogController({ disableRequestLogging: true }) })
  admin.get('/livez', async () => ({ status: 'ok' }))
  admin.get('/readyz', async (_request, reply) => {
    const status = tokens.status()
    const uses = [...accountUses()]
    const hasToken = new Map(status.map(s => [s.account, s.hasToken]))
    const accounts = status.map(s => ({
      account: s.account,
      hasToken: s.hasToken,
      ...(s.expiresAt === undefined ? {} : { expiresAt: new Date(s.expiresAt).toISOString() }),
      ...(s.lastError === undefined ? {} : { lastError: s.lastError }),
      // Without a token, the instances whose calls with this account cannot be served (docs/operations.md#readiness).
      ...(s.hasToken ? {} : { neededBy: uses.filter(([, names]) => names.includes(s.account)).map(([campaign]) => campaign) }),
    }))
    const campaigns = uses.map(([campaign, names]) => ({
      campaign,
      ready: names.every(account => hasToken.get(account) === true),
      accounts: names.map(account => ({ account, hasToken: hasToken.get(account) === true })),
    }))
    const shuttingDown = isShuttingDown()
    const isReady = !shuttingDown && tokens.isReady()
    // The store never makes the proxy unready: without it each replica works on its own state (docs/deployment.md#several-replicas-sharing-state).
    const shared = store?.status()
    const storeState = shared === undefined ? {} : { store: { state: shared.state, since: new Date(shared.since).toISOString(), ...(shared.lastError === undefined ? {} : { lastError: shared.lastError }) } }
    return reply.code(isReady ? 200 : 503).send({ status: isReady ? 'ready' : shuttingDown ? 'shutting down' : 'not ready', accounts, campaigns, ...storeState })
  })
  admin.get('/metrics', async (_request, reply) => {
    return reply.type(metrics.registry.contentType).send(await metrics.text())
  })
  /** The cluster's counts with a shared store; this replica's own while the store cannot answer, and said so. */
  const inventoryReport = async (): Promise<InventoryReport & { scope?: 'cluster' | 'replica' }> => {
    if (store === undefined) return inventory.report()
    const cluster = await store.inventory()
    return cluster === undefined ? { ...inventory.report(), scope: 'replica' } : { ...cluster, scope: 'cluster' }
  }
  admin.get('/integrations', inventoryReport)
  admin.get('/', async (_request, reply) => {
    const report = await inventoryReport()
    // The inventory's clock (the one its lastSeen times come from) is the page's.
    const page = renderStatusPage({ report, tokens: tokens.status(), uses: accountUses(), now: Date.parse(report.generatedAt) })
    return reply.headers(STATUS_PAGE_HEADERS).send(page)
  })
  return admin
}
