/**
 * The shared store on Redis or Valkey (`store.redis`,
 * docs/deployment.md#several-replicas-sharing-state), through ioredis.
 *
 * - Events (Logoff, lockout outcomes, remembered passthrough sessions) go
 *   into one capped stream. Every replica reads it with a blocking XREAD on
 *   a connection of its own and applies the others' events to its local
 *   structures; at start it reads back as far as a session lives, so a new
 *   replica knows the Logoffs before it. The request path reads only local
 *   structures: no store round trip per call.
 * - Inventory counts are added every `inventoryFlushSeconds` to one hash
 *   per entry (HINCRBY), so `/integrations` on any replica shows the
 *   cluster; unknown callers are indexed by last seen and capped.
 * - The store down or slow: commands fail fast (no offline queue, a
 *   timeout), events wait in a bounded outbox and inventory counts stay
 *   pending, both sent once the store is back; the proxy meanwhile works
 *   on its own state. ioredis reconnects by itself.
 */
import { createHash, createHmac, createSecretKey, hkdfSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { Redis, type RedisOptions } from 'ioredis'
import type { RedisStoreConfig, SecretSource } from '../config/types.js'
import { readSecret } from '../config/secret.js'
import { entryOf, emptyTally, integrationEntry, MAX_UNKNOWN_CALLERS, type Inventory, type InventoryReport, type PendingCounts, type Tally } from '../observability/inventory.js'
import { decodeEvent, encodeEvent, type ApplyClusterEvent, type ClusterEvent } from './cluster-events.js'

/** Entries kept in the event stream (approximately: trimmed by whole nodes). */
export const MAX_STREAM_EVENTS = 100_000
/** Events kept while the store is unreachable; the oldest are dropped beyond it (and counted). */
export const MAX_OUTBOX_EVENTS = 10_000
/** How long one blocking read waits for new events before it asks again. */
const BLOCK_MS = 1000
/** Events read per XREAD. */
const READ_COUNT = 1000
/** Inventory entries are forgotten by the store this long after their last count. */
const INVENTORY_TTL_MS = 30 * 24 * 3600 * 1000
/** Longest wait between two reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 2000

/** An event not yet in the store: its JSON and, for the metrics, its kind. */
interface OutboxEntry { readonly encoded: string, readonly kind: ClusterEvent['kind'] }

export type StoreState = 'connecting' | 'ok' | 'degraded'

export interface StoreStatus {
  readonly state: StoreState
  /** The last error's message (never a password: ioredis does not print it), while degraded. */
  readonly lastError: string | undefined
  readonly since: number
}

export interface StoreObserver {
  /** A store operation failed (`publish`, `read`, `flush`, `report`), or the full outbox dropped an event (`outbox_full`). */
  readonly failed?: (operation: StoreOperation, err: Error) => void
  /** The store became reachable again, or unreachable. */
  readonly stateChanged?: (status: StoreStatus) => void
  /** An event from the store without a valid signature (another deployment's secret, or forged): not applied. */
  readonly rejected?: () => void
  /** An event reached the store, or came from another replica and was applied. */
  readonly event?: (direction: 'sent' | 'received', kind: ClusterEvent['kind']) => void
}

export type StoreOperation = 'publish' | 'read' | 'flush' | 'report' | 'outbox_full'

export interface SharedStoreOptions {
  readonly config: RedisStoreConfig
  readonly inventory: Inventory
  /** Applies another replica's event here. */
  readonly apply: ApplyClusterEvent
  /** How far back a starting replica reads events: the longest a proxy session lives. */
  readonly catchUpMs: number
  readonly observer: StoreObserver
  readonly now?: () => number
  /** Events kept while the store is unreachable (default MAX_OUTBOX_EVENTS). */
  readonly maxOutbox?: number
  /**
   * `sessions.secret`: events are signed with a key derived from it and
   * only events signed with it are applied, so whoever can write to the
   * store cannot forge a Logoff or a lockout outcome without it. Undefined
   * (no integration logs on): events are neither signed nor checked.
   */
  readonly signingSecret: string | undefined
}

export class SharedStore {
  readonly replicaId = `${hostname()}-${randomBytes(6).toString('hex')}`
  readonly #config: RedisStoreConfig
  readonly #inventory: Inventory
  readonly #apply: ApplyClusterEvent
  readonly #observer: StoreObserver
  readonly #now: () => number
  readonly #maxOutbox: number
  readonly #keys: { readonly events: string, readonly integration: (name: string) => string, readonly unknown: (id: string) => string, readonly unknownIndex: string }
  #client: Redis | undefined
  #reader: Redis | undefined
  #lastId: string
  /** Events not yet in the store, oldest first. */
  #outbox: Array<OutboxEntry> = []
  #sendingOutbox = false
  #status: StoreStatus
  #closed = false
  #flushTimer: NodeJS.Timeout | undefined
  #flushing: Promise<void> | undefined
  #reading: Promise<void> | undefined

  constructor (options: SharedStoreOptions) {
    this.#config = options.config
    this.#inventory = options.inventory
    this.#apply = options.apply
    this.#observer = options.observer
    this.#now = options.now ?? Date.now
    this.#maxOutbox = options.maxOutbox ?? MAX_OUTBOX_EVENTS
    const prefix = options.config.keyPrefix
    this.#keys = {
      events: `${prefix}events`,
      integration: name => `${prefix}inventory:integration:${name}`,
      unknown: id => `${prefix}inventory:unknown:${id}`,
      unknownIndex: `${prefix}inventory:unknown`,
    }
    this.#lastId = `${Math.max(0, this.#now() - options.catchUpMs)}-0`
    this.#status = { state: 'connecting', lastError: undefined, since: this.#now() }
    this.#inventory.sharePending()
    this.useSigningSecret(options.signingSecret)
  }

  /** Connects (without waiting for the store: the proxy starts whether it answers or not) and starts reading and flushing. */
  async start (): Promise<void> {
    const options = await connectionOptions(this.#config)
    this.#client = new Redis(this.#config.url, options)
    // The reader blocks up to BLOCK_MS per read: its limit is beyond that.
    this.#reader = new Redis(this.#config.url, { ...options, commandTimeout: BLOCK_MS + options.commandTimeout })
    for (const client of [this.#client, this.#reader]) {
      // Errors are reported through the commands that meet them; this only keeps ioredis from printing them.
      client.on('error', (err: Error) => { this.#degraded(err) })
    }
    this.#client.on('ready', () => {
      this.#healthy()
      this.#flushOutbox()
    })
    this.#reading = this.#readLoop()
    // flush() never rejects: a failure is reported and the counts kept.
    this.#flushTimer = setInterval(() => { this.flush().catch(noop) }, this.#config.inventoryFlushSeconds * 1000)
    this.#flushTimer.unref()
  }

  status (): StoreStatus {
    return this.#status
  }

  /** Tells the other replicas; never waits and never throws (an unreachable store keeps the event for later, in order). */
  publish (event: ClusterEvent): void {
    this.#queue({ encoded: encodeEvent(event), kind: event.kind })
    if (this.#client?.status === 'ready') this.#flushOutbox()
  }

  /** Adds the inventory counts recorded since the last flush to the shared ones; kept for the next flush when the store fails. */
  async flush (): Promise<void> {
    if (this.#flushing !== undefined) return await this.#flushing
    this.#flushing = this.#flushPending().finally(() => { this.#flushing = undefined })
    return await this.#flushing
  }

  /** The cluster's inventory; undefined when the store cannot answer now (the caller shows its own). */
  async inventory (): Promise<InventoryReport | undefined> {
    const client = this.#client
    if (client?.status !== 'ready') return undefined
    try {
      const integrations = this.#inventory.configured()
      const ids = await client.zrevrange(this.#keys.unknownIndex, 0, MAX_UNKNOWN_CALLERS - 1)
      const reads = client.pipeline()
      for (const config of integrations) reads.hgetall(this.#keys.integration(config.name))
      for (const id of ids) reads.hgetall(this.#keys.unknown(id))
      const hashes = resultsOf(await reads.exec()) as Array<Record<string, string>>
      return {
        generatedAt: new Date(this.#now()).toISOString(),
        integrations: integrations.map((config, i) => integrationEntry(config, tallyOf(hashes[i] as Record<string, string>))),
        // An index entry whose hash expired or was trimmed meanwhile has no address: left out.
        unknownCallers: hashes.slice(integrations.length)
          .filter(hash => hash.address !== undefined)
          .map(hash => ({ login: hash.login !== '' ? hash.login as string : null, address: hash.address as string, ...entryOf(tallyOf(hash)) })),
      }
    } catch (err) {
      this.#failed('report', err as Error)
      return undefined
    }
  }

  /** Stops reading, sends what is pending (bounded by the command timeout), and disconnects. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#flushTimer)
    if (this.#client?.status === 'ready') await this.flush()
    this.#reader?.disconnect()
    this.#client?.disconnect()
    await this.#reading
  }

  #queue (entry: OutboxEntry): void {
    this.#outbox.push(entry)
    if (this.#outbox.length > this.#maxOutbox) {
      this.#outbox.shift()
      // Not a store failure (the store may be fine by now): reported as an operation that failed, without changing the state.
      this.#observer.failed?.('outbox_full', new Error(`${this.#maxOutbox} events were waiting for the store: the oldest was dropped`))
    }
  }

  async #send ({ encoded, kind }: OutboxEntry): Promise<void> {
    const signature = this.#signingKey === undefined ? [] : ['s', this.#signature(this.replicaId, encoded)]
    await (this.#client as Redis).xadd(this.#keys.events, 'MAXLEN', '~', MAX_STREAM_EVENTS, '*', 'r', this.replicaId, 'e', encoded, ...signature)
    this.#observer.event?.('sent', kind)
  }

  /** Sends the events kept while the store was away, in order; stops at the first failure (kept for the next try). */
  #flushOutbox (): void {
    if (this.#sendingOutbox) return
    this.#sendingOutbox = true
    this.#drainOutbox().catch(noop)
  }

  async #drainOutbox (): Promise<void> {
    try {
      while (this.#outbox.length > 0 && this.#client?.status === 'ready') {
        await this.#send(this.#outbox[0] as OutboxEntry)
        this.#outbox.shift()
      }
    } catch (err) {
      this.#failed('publish', err as Error)
    } finally {
      this.#sendingOutbox = false
    }
  }

  /** A new `sessions.secret` (a reload): events are signed and checked with it from now on. */
  useSigningSecret (secret: string | undefined): void {
    this.#signingKey = secret === undefined ? undefined : createSecretKey(Buffer.from(hkdfSync('sha256', secret, 'campaign-ims-proxy', 'cluster events v1', 32)))
  }

  #signingKey: KeyObject | undefined

  #signature (from: string, encoded: string): string {
    return createHmac('sha256', this.#signingKey as KeyObject).update(`${from}\u0000${encoded}`).digest('base64url')
  }

  /** Whether an entry's signature is the one this replica's key gives (any entry, without a key). */
  #isSigned (from: string, encoded: string, signature: string | undefined): boolean {
    if (this.#signingKey === undefined) return true
    const expected = Buffer.from(this.#signature(from, encoded))
    const given = Buffer.from(signature ?? '')
    return given.length === expected.length && timingSafeEqual(given, expected)
  }

  async #readLoop (): Promise<void> {
    let backoff = 100
    while (!this.#closed) {
      const reader = this.#reader as Redis
      try {
        if (reader.status !== 'ready') {
          await onceReady(reader, MAX_RECONNECT_DELAY_MS)
          continue
        }
        const answer = await reader.xread('COUNT', READ_COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', this.#keys.events, this.#lastId) as Array<[string, Array<[string, string[]]>]> | null
        this.#healthy()
        backoff = 100
        for (const [, entries] of answer ?? []) {
          for (const [id, fields] of entries) {
            this.#lastId = id
            const from = fieldOf(fields, 'r') ?? ''
            const encoded = fieldOf(fields, 'e') ?? ''
            if (from === this.replicaId) continue
            if (!this.#isSigned(from, encoded, fieldOf(fields, 's'))) {
              this.#observer.rejected?.()
              continue
            }
            const event = decodeEvent(encoded)
            if (event !== undefined) {
              this.#apply(event)
              this.#observer.event?.('received', event.kind)
            }
          }
        }
      } catch (err) {
        if (this.#closed) break
        this.#failed('read', err as Error)
        await delay(backoff)
        backoff = Math.min(backoff * 2, MAX_RECONNECT_DELAY_MS)
      }
    }
  }

  async #flushPending (): Promise<void> {
    const client = this.#client
    const pending = this.#inventory.takePending()
    if (pending.length === 0) return
    if (client?.status !== 'ready') {
      this.#inventory.restorePending(pending)
      return
    }
    try {
      const writes = client.multi()
      let hasUnknown = false
      for (const { entry, tally } of pending) {
        const key = entry.kind === 'integration' ? this.#keys.integration(entry.name) : this.#keys.unknown(unknownId(entry.login, entry.address))
        for (const [field, n] of fieldsOf(tally)) writes.hincrby(key, field, n)
        if (tally.lastSeen !== undefined) writes.eval(MAX_FIELD_SCRIPT, 1, key, 'seen', tally.lastSeen)
        if (entry.kind === 'unknown') {
          writes.hset(key, 'login', entry.login ?? '', 'address', entry.address)
          // A recorded call always sets lastSeen.
          writes.zadd(this.#keys.unknownIndex, 'GT', tally.lastSeen as number, unknownId(entry.login, entry.address))
          hasUnknown = true
        }
        writes.pexpire(key, INVENTORY_TTL_MS)
      }
      if (hasUnknown) writes.eval(TRIM_UNKNOWN_SCRIPT, 1, this.#keys.unknownIndex, MAX_UNKNOWN_CALLERS, `${this.#config.keyPrefix}inventory:unknown:`)
      resultsOf(await writes.exec())
      this.#healthy()
    } catch (err) {
      // EXEC runs whole or not at all; its answer lost after it ran would count these twice (at least once, never lost).
      this.#inventory.restorePending(pending)
      this.#failed('flush', err as Error)
    }
  }

  #healthy (): void {
    if (this.#status.state === 'ok') return
    this.#status = { state: 'ok', lastError: undefined, since: this.#now() }
    this.#observer.stateChanged?.(this.#status)
  }

  #degraded (err: Error): void {
    const changed = this.#status.state !== 'degraded'
    this.#status = { state: 'degraded', lastError: err.message.slice(0, 256), since: changed ? this.#now() : this.#status.since }
    if (changed) this.#observer.stateChanged?.(this.#status)
  }

  #failed (operation: StoreOperation, err: Error): void {
    this.#degraded(err)
    this.#observer.failed?.(operation, err)
  }
}

/** Sets a hash field to `ARGV[2]` when it is larger than the field's value (the last seen time of several replicas). */
const MAX_FIELD_SCRIPT = `local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > current then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 0`

/** Keeps the ARGV[1] most recently seen unknown callers: older ones leave the index and their hashes are deleted. */
const TRIM_UNKNOWN_SCRIPT = `local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[1])
if extra <= 0 then return 0 end
local ids = redis.call('ZRANGE', KEYS[1], 0, extra - 1)
for _, id in ipairs(ids) do redis.call('DEL', ARGV[2] .. id) end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, extra - 1)
return extra`

/** An unknown caller's key: a digest of its login and address (both bounded, neither secret). */
function unknownId (login: string | undefined, address: string): string {
  return createHash('sha256').update(`${login ?? ''}\u0000${address}`).digest('base64url').slice(0, 22)
}

const SECTIONS = [['m:', 'methods'], ['r:', 'refusedMethods'], ['c:', 'campaigns'], ['a:', 'authPaths'], ['f:', 'faults'], ['s:', 'statuses']] as const

/** A tally as hash fields to add: `calls`, then `m:<method>`, `a:<auth path>`... */
function fieldsOf (tally: Tally): Array<[string, number]> {
  const fields: Array<[string, number]> = [['calls', tally.calls]]
  for (const [prefix, name] of SECTIONS) for (const [key, n] of tally[name]) fields.push([`${prefix}${key}`, n])
  return fields
}

/** The tally a hash holds (fields of other kinds ignored). */
function tallyOf (hash: Readonly<Record<string, string>>): Tally {
  const tally = emptyTally()
  tally.calls = Number(hash.calls ?? 0)
  tally.lastSeen = hash.seen === undefined ? undefined : Number(hash.seen)
  for (const [field, value] of Object.entries(hash)) {
    const section = SECTIONS.find(([prefix]) => field.startsWith(prefix))
    if (section !== undefined) tally[section[1]].set(field.slice(section[0].length), Number(value))
  }
  return tally
}

function fieldOf (fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]
  return undefined
}

/** ioredis options: fail fast (no offline queue, no retries per command), reconnect with a capped backoff, TLS for rediss://. */
export async function connectionOptions (config: RedisStoreConfig): Promise<RedisOptions & { commandTimeout: number }> {
  const timeoutMs = Math.ceil(config.timeoutSeconds * 1000)
  const password = config.password === undefined ? undefined : await readSecret(config.password as SecretSource)
  const tls = config.url.startsWith('rediss:') ? { ...(config.caFile === undefined ? {} : { ca: readFileSync(config.caFile) }) } : undefined
  return {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(timeoutMs, 100),
    commandTimeout: timeoutMs,
    retryStrategy: times => Math.min(times * 100, MAX_RECONNECT_DELAY_MS),
    ...(config.username === undefined ? {} : { username: config.username }),
    ...(password === undefined ? {} : { password }),
    ...(tls === undefined ? {} : { tls }),
  }
}

async function onceReady (client: Redis, timeoutMs: number): Promise<void> {
  await new Promise<void>(resolve => {
    const timer = setTimeout(done, timeoutMs)
    function done (): void {
      clearTimeout(timer)
      client.off('ready', done)
      client.off('end', done)
      resolve()
    }
    client.once('ready', done)
    client.once('end', done)
  })
}

/* c8 ignore next -- follows promises that never reject (flush and the outbox report their own failures) */
function noop (): void {}

/** The values of a pipeline's or transaction's answers; the first command error thrown. */
function resultsOf (answers: Array<[Error | null, unknown]> | null): unknown[] {
  return (answers as Array<[Error | null, unknown]>).map(([err, value]) => {
    if (err !== null) throw err
    return value
  })
}

async function delay (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

export type { PendingCounts }
