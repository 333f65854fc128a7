// The server with store.redis: a password in the store URL is never logged
// (the URL is, redacted), a refused AUTH leaves the proxy serving with its
// own state, and a listener that cannot bind releases the store too.
import { createServer } from 'node:net'
import { Writable } from 'node:stream'
import { Redis } from 'ioredis'
import t from 'tap'
import { parseConfig } from '../../src/config/load.js'
import type { RedisStoreConfig } from '../../src/config/types.js'
import { Inventory } from '../../src/observability/inventory.js'
import { SharedStore } from '../../src/store/redis-store.js'
import { createLogger } from '../../src/observability/logger.js'
import { startServer } from '../../src/server.js'
import { send } from '../fixtures/http.js'
import { redisServerMissing, startRedisServer } from '../fixtures/redis-server.js'
import { eventually } from '../fixtures/wait.js'

const yaml = (storeUrl: string, port = 0): string => `
listen: { host: 127.0.0.1, port: ${port} }
admin: { host: 127.0.0.1, port: 0 }
campaign: { url: 'http://127.0.0.1:9' }
ims: { tokenUrl: 'http://127.0.0.1:9/ims/token/v3' }
store: { redis: { url: '${storeUrl}', timeoutSeconds: 0.2 } }
`

t.test('a refused password: degraded, serving, the password in no log line', { skip: redisServerMissing(t) }, async t => {
  const redis = await startRedisServer(t, { requirePassword: 'the-right-password' })
  const lines: string[] = []
  const sink = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done() } })
  const url = redis.url.replace('redis://', 'redis://:not-the-password-4711@')
  const server = await startServer(parseConfig(yaml(url), { source: 'test', env: {} }), createLogger('info', sink), { now: Date.now })
  t.teardown(() => server.close())
  await eventually(async () => (JSON.parse((await send(`${server.adminUrl}/readyz`)).text) as { store?: { state: string } }).store?.state === 'degraded', 'the store seen as degraded')
  const ready = await send(`${server.adminUrl}/readyz`)
  t.match(JSON.parse(ready.text), { store: { state: 'degraded', lastError: /./ } }, '/readyz says why')
  const inventory = JSON.parse((await send(`${server.adminUrl}/integrations`)).text) as { scope: string }
  t.equal(inventory.scope, 'replica', '/integrations is this replica\'s own, and says so')
  const log = lines.join('')
  t.notMatch(log, 'not-the-password-4711', 'the password is in no log line')
  t.match(log, /"store":"redis:\/\/:redacted@127\.0\.0\.1:\d+\/0","error":"WRONGPASS[^"]*","msg":"shared store unreachable/, 'the store URL is logged with the password redacted')
})

t.test('a listener that cannot bind: the store is released with everything else', { skip: redisServerMissing(t) }, async t => {
  const redis = await startRedisServer(t)
  const taken = createServer()
  await new Promise<void>(resolve => taken.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { taken.close() })
  const port = (taken.address() as { port: number }).port
  await t.rejects(startServer(parseConfig(yaml(redis.url, port), { source: 'test', env: {} }), createLogger('silent')), { code: 'EADDRINUSE' }, 'the start fails')
})

t.test('without store: no store is built, nothing says otherwise', async t => {
  const config = parseConfig(`
listen: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
campaign: { url: 'http://127.0.0.1:9' }
ims: { tokenUrl: 'http://127.0.0.1:9/ims/token/v3' }
`, { source: 'test', env: {} })
  t.equal(config.store.redis, undefined, 'no store configured')
  const server = await startServer(config, createLogger('silent'))
  t.teardown(() => server.close())
  const ready = JSON.parse((await send(`${server.adminUrl}/readyz`)).text) as Record<string, unknown>
  t.notOk('store' in ready, '/readyz has no store field')
  t.notOk('scope' in (JSON.parse((await send(`${server.adminUrl}/integrations`)).text) as Record<string, unknown>), '/integrations has no scope: it is this replica\'s, as always')
  t.notMatch((await send(`${server.adminUrl}/metrics`)).text, /campaign_ims_proxy_store_/, 'no store metric is exported')
})

t.test('an unsigned event in the store: ignored, counted and logged', { skip: redisServerMissing(t) }, async t => {
  const redis = await startRedisServer(t)
  const lines: string[] = []
  const sink = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done() } })
  const config = parseConfig(`${yaml(redis.url)}sessions: { secret: server-store-test-secret-0123456789abcdef }\n`, { source: 'test', env: {} })
  const server = await startServer(config, createLogger('info', sink))
  t.teardown(() => server.close())
  await eventually(async () => (JSON.parse((await send(`${server.adminUrl}/readyz`)).text) as { store?: { state: string } }).store?.state === 'ok', 'the store reachable')
  const raw = new Redis(redis.url)
  t.teardown(() => raw.disconnect())
  await raw.xadd(`${config.store.redis?.keyPrefix ?? ''}events`, '*', 'r', 'intruder', 'e', '{"kind":"succeeded","login":"victim","address":"203.0.113.9","at":1}')
  await eventually(async () => /campaign_ims_proxy_store_errors_total\{operation="unsigned_event"\} 1/.test((await send(`${server.adminUrl}/metrics`)).text), 'the unsigned event counted')
  t.match(lines.join(''), 'an event without this deployment\'s signature was ignored', 'and logged')
})

t.test('a reload with a new sessions.secret: events are checked with the new key', { skip: redisServerMissing(t) }, async t => {
  const redis = await startRedisServer(t)
  const withSecret = (secret: string): ReturnType<typeof parseConfig> => parseConfig(`${yaml(redis.url)}sessions: { secret: ${secret} }\n`, { source: 'test', env: {} })
  const server = await startServer(withSecret('first-secret-0123456789abcdefghijklmnop'), createLogger('silent'))
  t.teardown(() => server.close())
  const metrics = async (): Promise<string> => (await send(`${server.adminUrl}/metrics`)).text
  await eventually(async () => (JSON.parse((await send(`${server.adminUrl}/readyz`)).text) as { store?: { state: string } }).store?.state === 'ok', 'the store reachable')
  const other = new SharedStore({ config: withSecret('third-secret-0123456789abcdefghijklmnop').store.redis as RedisStoreConfig, inventory: new Inventory([]), apply: () => {}, catchUpMs: 0, signingSecret: 'second-secret-0123456789abcdefghijklmnop', observer: {} })
  await other.start()
  t.teardown(() => other.close())
  await eventually(async () => other.status().state === 'ok', 'the other store reachable')
  other.publish({ kind: 'failed', login: 'op', address: '10.0.0.1', at: Date.now() })
  await eventually(async () => /store_errors_total\{operation="unsigned_event"\} 1/.test(await metrics()), 'the event of another secret refused')
  t.same(await server.reload(withSecret('second-secret-0123456789abcdefghijklmnop')), { ok: true, restartRequired: [], tokensRenewed: false }, 'the new secret reloads')
  other.publish({ kind: 'failed', login: 'op', address: '10.0.0.1', at: Date.now() })
  await eventually(async () => /store_events_total\{direction="received",kind="failed"\} 1/.test(await metrics()), 'the event of the new secret applied')
  t.pass('after the reload, events signed with the new secret are applied')
})
