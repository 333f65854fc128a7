// The shared store alone, in-process, against a real redis-server: events
// between two stores (own ones skipped, damaged ones ignored), the outbox
// while the server is down (bounded, sent in order once it is back), the
// inventory's flush, cap and report, and the connection options.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import type { IntegrationConfig, RedisStoreConfig } from '../../src/config/types.js'
import { Inventory, MAX_UNKNOWN_CALLERS } from '../../src/observability/inventory.js'
import { decodeEvent, encodeEvent, type ClusterEvent } from '../../src/store/cluster-events.js'
import { connectionOptions, SharedStore, type StoreOperation } from '../../src/store/redis-store.js'
import { redisServerMissing, startRedisServer, type RedisServer } from '../fixtures/redis-server.js'
import { eventually } from '../fixtures/wait.js'

t.setTimeout(120_000)

const ETL: IntegrationConfig = { name: 'nightly-etl', mode: 'ims', login: 'etl', passwordHash: undefined, networks: [], clientCertificates: [], technicalAccount: 'marketing', allowedMethods: undefined, allowedPaths: undefined }
const SESSION = { integration: 'nightly-etl', id: 'abc', issuedAt: 1, expiresAt: 2, generation: 'g' }

t.test('events decode only in the shape this version writes', async t => {
  const events: ClusterEvent[] = [
    { kind: 'revoked', session: SESSION },
    { kind: 'failed', login: 'l', address: '10.0.0.1', at: 5 },
    { kind: 'succeeded', login: 'l', address: '10.0.0.1', at: 5 },
    { kind: 'remembered', digest: 'd', integration: 'x', login: 'l', at: 5 },
    { kind: 'remembered', digest: 'd', integration: undefined, login: undefined, at: 5 },
  ]
  for (const event of events) t.same(decodeEvent(encodeEvent(event)), event, `${event.kind} round trip`)
  for (const [text, what] of [
    ['not json', 'not JSON'], ['null', 'null'], ['"x"', 'a string'], ['{"kind":"other"}', 'another kind'],
    ['{"kind":"revoked"}', 'a revocation without a session'],
    ['{"kind":"revoked","session":{"integration":"x","id":"i","issuedAt":1,"expiresAt":"2","generation":"g"}}', 'a revocation with a text time'],
    [`{"kind":"revoked","session":{"integration":"x","id":"i","issuedAt":1,"expiresAt":2,"generation":"${'g'.repeat(1025)}"}}`, 'an over-long generation'],
    ['{"kind":"revoked","session":{"integration":"x","id":"i","issuedAt":1,"expiresAt":2,"generation":3}}', 'a generation that is not text'],
    ['{"kind":"failed","login":"","address":"a","at":1}', 'an empty login'],
    ['{"kind":"failed","login":"l","address":"a","at":-1}', 'a negative time'],
    ['{"kind":"remembered","digest":"d","at":1,"integration":5}', 'a remembered session with a number for integration'],
    ['{"kind":"remembered","digest":"d","at":1,"login":5}', 'a remembered session with a number for login'],
  ] as const) t.equal(decodeEvent(text), undefined, what)
})

t.test('connection options: fail fast, TLS with a CA for rediss://, password from a file, user', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'store-options-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  await writeFile(join(dir, 'ca.pem'), 'ca-bytes')
  await writeFile(join(dir, 'password'), 'pa55word\n')
  const config: RedisStoreConfig = { url: 'rediss://redis.internal:6380/1', username: 'proxy', password: { kind: 'file', path: join(dir, 'password') }, caFile: join(dir, 'ca.pem'), keyPrefix: 'p:', timeoutSeconds: 0.25, inventoryFlushSeconds: 1 }
  const options = await connectionOptions(config)
  t.match(options, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 250, connectTimeout: 250, username: 'proxy', password: 'pa55word' }, 'no offline queue, no retries, the limits, the credentials')
  t.equal(options.tls?.ca?.toString(), 'ca-bytes', 'the CA file for TLS')
  t.equal(options.retryStrategy?.(50), 2000, 'reconnection attempts capped at 2 s apart')
  const plain = await connectionOptions({ ...config, url: 'redis://redis.internal:6379/0', username: undefined, password: undefined, caFile: undefined, timeoutSeconds: 0.01 })
  t.equal(plain.tls, undefined, 'no TLS for redis://')
  t.equal(plain.connectTimeout, 100, 'a connect limit of at least 100 ms')
  t.notOk('password' in plain || 'username' in plain, 'no credentials when none are configured')
  const tlsWithoutCa = await connectionOptions({ ...config, caFile: undefined })
  t.same(tlsWithoutCa.tls, {}, 'rediss:// without caFile: the system CAs')
})

interface Harness {
  readonly server: RedisServer
  readonly config: RedisStoreConfig
  store (inventory: Inventory, options?: { maxOutbox?: number, now?: () => number, signingSecret?: string }): Promise<{ store: SharedStore, received: ClusterEvent[], failures: StoreOperation[], rejected: () => number }>
}

async function harness (t: Test): Promise<Harness> {
  const server = await startRedisServer(t)
  const config: RedisStoreConfig = { url: server.url, username: undefined, password: undefined, caFile: undefined, keyPrefix: `unit-${randomBytes(4).toString('hex')}:`, timeoutSeconds: 0.5, inventoryFlushSeconds: 3600 }
  return {
    server,
    config,
    store: async (inventory, options = {}) => {
      const received: ClusterEvent[] = []
      const failures: StoreOperation[] = []
      let rejected = 0
      const store = new SharedStore({ config, inventory, apply: event => received.push(event), catchUpMs: 60_000, signingSecret: undefined, observer: { failed: op => failures.push(op), rejected: () => { rejected += 1 } }, ...options })
      await store.start()
      t.teardown(() => store.close())
      await eventually(async () => store.status().state === 'ok', 'the store reachable')
      return { store, received, failures, rejected: () => rejected }
    },
  }
}

t.test('events between stores; own and damaged ones are not applied; the outbox while the server is down', { skip: redisServerMissing(t) }, async t => {
  const h = await harness(t)
  const one = await h.store(new Inventory([ETL]), { maxOutbox: 3 })
  const two = await h.store(new Inventory([ETL]))
  one.store.publish({ kind: 'revoked', session: SESSION })
  await eventually(async () => two.received.length === 1, 'the other store receiving the event')
  t.same(two.received, [{ kind: 'revoked', session: SESSION }], 'applied by the other store')
  const raw = new Redis(h.server.url)
  t.teardown(() => raw.disconnect())
  await raw.xadd(`${h.config.keyPrefix}events`, '*', 'r', 'someone', 'e', '{"kind":"unknown"}')
  await raw.xadd(`${h.config.keyPrefix}events`, '*', 'x', 'no fields it knows')
  two.store.publish({ kind: 'failed', login: 'l', address: 'a', at: 1 })
  await eventually(async () => one.received.length === 1, 'the first store receiving the second\'s event')
  t.same(one.received, [{ kind: 'failed', login: 'l', address: 'a', at: 1 }], 'damaged entries were skipped; the next event applied')
  t.equal(two.received.length, 1, 'a store never applies its own event')

  await h.server.stop()
  await eventually(async () => one.store.status().state === 'degraded', 'the store seen down')
  t.match(one.store.status(), { state: 'degraded', lastError: /./ }, 'degraded, with the last error')
  t.equal(await one.store.inventory(), undefined, 'no cluster inventory while the store is down')
  for (let i = 0; i < 5; i++) one.store.publish({ kind: 'succeeded', login: `l${i}`, address: 'a', at: i })
  t.equal(one.failures.filter(f => f === 'outbox_full').length, 2, 'beyond the outbox\'s bound the oldest events are dropped and reported')
  await h.server.start()
  await eventually(async () => two.received.length === 4, 'the kept events reaching the other store once the server is back')
  t.same(two.received.slice(1).map(e => (e as { login: string }).login), ['l2', 'l3', 'l4'], 'in the order they were made')
  t.ok(one.failures.includes('read') || two.failures.includes('read'), 'the failed reads were reported')
  one.store.publish({ kind: 'succeeded', login: 'after', address: 'a', at: 9 })
  one.store.publish({ kind: 'succeeded', login: 'right after', address: 'a', at: 10 })
  await eventually(async () => two.received.length === 6, 'two events after the recovery')
  t.pass('events flow again after the recovery')
})

t.test('the inventory: counts of both stores added up, kept while the server is down, unknown callers capped', { skip: redisServerMissing(t) }, async t => {
  const h = await harness(t)
  let now = Date.parse('2026-12-01T10:00:00Z')
  const clock = (): number => now
  const inventories = [new Inventory([ETL], clock), new Inventory([ETL], clock)]
  const [one, two] = [await h.store(inventories[0] as Inventory, { now: clock }), await h.store(inventories[1] as Inventory, { now: clock })]
  const call = (inventory: Inventory, method: string, fault?: string): void => {
    inventory.record({ integration: ETL, caller: '10.0.0.1', login: undefined, soapMethod: method, refused: fault === 'PRX-000018', path: '/nl/jsp/soaprouter.jsp', campaign: 'default', authPath: 'session', fault, status: fault === undefined ? 200 : 403 })
  }
  call(inventories[0] as Inventory, 'xtk:session#GetOption')
  now += 1000
  call(inventories[1] as Inventory, 'xtk:session#GetOption')
  call(inventories[1] as Inventory, 'xtk:session#Write', 'PRX-000018')
  await Promise.all([one.store.flush(), one.store.flush(), two.store.flush()])
  await one.store.flush()
  const report = await one.store.inventory()
  t.match(report?.integrations[0], {
    name: 'nightly-etl',
    calls: 3,
    lastSeen: '2026-12-01T10:00:01.000Z',
    methods: { 'xtk:session#GetOption': 2 },
    refused: { 'xtk:session#Write': 1 },
    campaigns: { default: 3 },
    authPaths: { session: 3 },
    faults: { 'PRX-000018': 1 },
    statuses: { 200: 2, 403: 1 },
  }, 'the counts of both replicas added up, the latest last seen')
  t.same(await two.store.inventory(), report, 'the same report from either store')

  await h.server.stop()
  await eventually(async () => one.store.status().state === 'degraded', 'the store seen down')
  call(inventories[0] as Inventory, 'xtk:session#GetOption')
  await one.store.flush()
  call(inventories[0] as Inventory, 'xtk:session#GetOption')
  await h.server.start()
  await eventually(async () => one.store.status().state === 'ok', 'the store back')
  await one.store.flush()
  t.match((await one.store.inventory())?.integrations[0], { calls: 2, methods: { 'xtk:session#GetOption': 2 } }, 'counts kept while the server was down reach the restarted (empty) server')

  for (let i = 0; i < MAX_UNKNOWN_CALLERS + 3; i++) {
    now += 1
    ;(inventories[i % 2] as Inventory).record({ integration: undefined, caller: `10.9.${i >> 8}.${i & 255}`, login: i === MAX_UNKNOWN_CALLERS + 2 ? 'legacy_op' : undefined, soapMethod: undefined, refused: false, path: '/r/test', campaign: undefined, authPath: 'anonymous', fault: undefined, status: 200 })
  }
  await Promise.all([one.store.flush(), two.store.flush()])
  const capped = await one.store.inventory()
  t.equal(capped?.unknownCallers.length, MAX_UNKNOWN_CALLERS, `at most ${MAX_UNKNOWN_CALLERS} unknown callers in the store`)
  t.notOk(capped?.unknownCallers.some(u => u.address === '10.9.0.0'), 'the least recently seen were dropped')
  t.ok(capped?.unknownCallers.some(u => u.address === `10.9.${(MAX_UNKNOWN_CALLERS + 2) >> 8}.${(MAX_UNKNOWN_CALLERS + 2) & 255}` && u.login === 'legacy_op'), 'the latest kept, with its login')
  t.ok(capped?.unknownCallers.some(u => u.address === '10.9.0.5' && u.login === null), 'one without a login has none')
  await one.store.close()
  await one.store.close()
  t.pass('closing twice is harmless')
})

t.test('a command the server refuses: reported, nothing lost once it accepts again', { skip: redisServerMissing(t) }, async t => {
  const h = await harness(t)
  const inventory = new Inventory([ETL])
  const one = await h.store(inventory)
  const two = await h.store(new Inventory([ETL]))
  const raw = new Redis(h.server.url)
  t.teardown(() => raw.disconnect())
  const integrationKey = `${h.config.keyPrefix}inventory:integration:nightly-etl`
  // A key of the wrong type makes every command on it fail (WRONGTYPE), as a damaged or foreign key would.
  await raw.set(integrationKey, 'not a hash')
  inventory.record({ integration: ETL, caller: '10.0.0.1', login: undefined, soapMethod: 'xtk:session#GetOption', refused: false, path: '/nl/jsp/soaprouter.jsp', campaign: 'default', authPath: 'session', fault: undefined, status: 200 })
  await one.store.flush()
  t.ok(one.failures.includes('flush'), 'the refused flush is reported')
  t.equal(await one.store.inventory(), undefined, 'a report the server refuses: none (the caller shows its own)')
  t.ok(one.failures.includes('report'), 'and reported')
  await raw.del(integrationKey)
  await one.store.flush()
  t.match((await one.store.inventory())?.integrations[0], { calls: 1, methods: { 'xtk:session#GetOption': 1 } }, 'the counts of the refused flush are added by the next one')

  const eventsKey = `${h.config.keyPrefix}events`
  const before = two.received.length
  await raw.set(eventsKey, 'not a stream')
  one.store.publish({ kind: 'succeeded', login: 'first', address: 'a', at: 1 })
  await eventually(async () => one.failures.includes('publish'), 'the refused event reported')
  await raw.del(eventsKey)
  one.store.publish({ kind: 'succeeded', login: 'second', address: 'a', at: 2 })
  await eventually(async () => two.received.length === before + 2, 'both events reaching the other store')
  t.same(two.received.slice(before).map(e => (e as { login: string }).login), ['first', 'second'], 'the refused event kept and sent first')
})

t.test('signed events: only those signed with the same sessions.secret are applied', { skip: redisServerMissing(t) }, async t => {
  const h = await harness(t)
  const secret = 'shared-by-every-replica-0123456789abcdef'
  const one = await h.store(new Inventory([ETL]), { signingSecret: secret })
  const two = await h.store(new Inventory([ETL]), { signingSecret: secret })
  const other = await h.store(new Inventory([ETL]), { signingSecret: 'another-deployment-secret-0123456789abcdef' })
  const raw = new Redis(h.server.url)
  t.teardown(() => raw.disconnect())
  const forged = encodeEvent({ kind: 'succeeded', login: 'victim', address: '203.0.113.9', at: Date.now() })
  await raw.xadd(`${h.config.keyPrefix}events`, '*', 'r', 'intruder', 'e', forged)
  await raw.xadd(`${h.config.keyPrefix}events`, '*', 'r', 'intruder', 'e', forged, 's', 'AAAA')
  one.store.publish({ kind: 'revoked', session: SESSION })
  await eventually(async () => two.received.length === 1 && other.rejected() >= 1, 'the signed event reaching the store of the same secret')
  t.same(two.received, [{ kind: 'revoked', session: SESSION }], 'the signed event is applied; the forged ones are not')
  t.equal(two.rejected(), 2, 'an entry without a signature, and one with a wrong signature, are refused and counted')
  await eventually(async () => other.rejected() === 3, 'the store of another secret refusing all three')
  t.same(other.received, [], 'a store with another secret applies none of them')
  other.store.useSigningSecret(secret)
  one.store.publish({ kind: 'failed', login: 'l', address: 'a', at: 1 })
  await eventually(async () => other.received.length === 1, 'the store given the secret applying the next event')
  t.pass('after a reload with the same secret, its events are applied')
})
