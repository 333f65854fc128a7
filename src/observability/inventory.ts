/**
 * The migration inventory behind the admin `/integrations` endpoint: per
 * configured integration and per unknown caller (a login seen in a
 * passthrough Logon, or an address), how many calls, when last seen, which
 * SOAP methods, which auth paths, which proxy faults. Unknown callers are
 * bounded (least recently seen dropped first); so are the methods listed
 * per entry.
 */
import { LRUCache } from 'lru-cache'
import type { IntegrationConfig } from '../config/types.js'

/** Unknown callers remembered (least recently seen dropped beyond it). */
export const MAX_UNKNOWN_CALLERS = 1000
/** Distinct SOAP methods listed per entry; further ones are counted under `other`. */
export const MAX_METHODS_PER_ENTRY = 100

export interface InventoryCall {
  readonly integration: IntegrationConfig | undefined
  /** Client address (through trusted proxies). */
  readonly caller: string
  /** Login presented in a Logon or a login/password session token, when any. */
  readonly login: string | undefined
  readonly soapMethod: string | undefined
  /** The integration's allowedMethods / allowedPaths refused the call (its method is listed apart from the methods used). */
  readonly refused: boolean
  /** The request path (without its query). */
  readonly path: string
  /** The Campaign instance the call was for (a configured name), when one was selected. */
  readonly campaign: string | undefined
  readonly authPath: string
  readonly fault: string | undefined
  readonly status: number
}

export interface Tally {
  calls: number
  lastSeen: number | undefined
  readonly methods: Map<string, number>
  readonly refusedMethods: Map<string, number>
  readonly campaigns: Map<string, number>
  readonly authPaths: Map<string, number>
  readonly faults: Map<string, number>
  readonly statuses: Map<string, number>
}

export interface InventoryEntry {
  readonly calls: number
  readonly lastSeen: string | null
  /** SOAP methods called (refused ones apart): what `suggest-allowlist` proposes. */
  readonly methods: Record<string, number>
  /** Calls refused by the integration's allowedMethods / allowedPaths, by SOAP method (or path). */
  readonly refused: Record<string, number>
  /** Calls per Campaign instance. */
  readonly campaigns: Record<string, number>
  readonly authPaths: Record<string, number>
  readonly faults: Record<string, number>
  readonly statuses: Record<string, number>
}

export interface InventoryReport {
  readonly generatedAt: string
  readonly integrations: ReadonlyArray<InventoryEntry & {
    readonly name: string
    readonly mode: string
    readonly technicalAccount: string | Readonly<Record<string, string>> | null
    /** Least privilege: the configured lists, null when not set (every method / path passes). */
    readonly allowedMethods: readonly string[] | null
    readonly allowedPaths: readonly string[] | null
  }>
  readonly unknownCallers: ReadonlyArray<InventoryEntry & { readonly login: string | null, readonly address: string }>
}

/**
 * Counts recorded since the last flush to a shared store, per entry
 * (`store.redis`): added to the cluster's counts, then forgotten.
 */
export interface PendingCounts {
  readonly entry: { readonly kind: 'integration', readonly name: string } | { readonly kind: 'unknown', readonly login: string | undefined, readonly address: string }
  readonly tally: Tally
}

export function emptyTally (): Tally {
  return { calls: 0, lastSeen: undefined, methods: new Map(), refusedMethods: new Map(), campaigns: new Map(), authPaths: new Map(), faults: new Map(), statuses: new Map() }
}

function bump (map: Map<string, number>, key: string, cap = Number.POSITIVE_INFINITY): void {
  const name = map.has(key) || map.size < cap ? key : 'other'
  map.set(name, (map.get(name) ?? 0) + 1)
}

export class Inventory {
  readonly #now: () => number
  #integrations = new Map<string, { config: IntegrationConfig, tally: Tally }>()
  readonly #unknown = new LRUCache<string, { login: string | undefined, address: string, tally: Tally }>({ max: MAX_UNKNOWN_CALLERS })
  /** Counts not yet added to the shared store's; undefined when there is none. */
  #pending: Map<string, PendingCounts> | undefined

  constructor (integrations: readonly IntegrationConfig[], now: () => number = Date.now) {
    this.#now = now
    this.configure(integrations)
  }

  /** Follows a configuration reload: new integrations appear, removed ones go, kept ones keep their counts. */
  configure (integrations: readonly IntegrationConfig[]): void {
    const next = new Map<string, { config: IntegrationConfig, tally: Tally }>()
    for (const config of integrations) next.set(config.name, { config, tally: this.#integrations.get(config.name)?.tally ?? emptyTally() })
    this.#integrations = next
  }

  /** From now on, every call is also kept in counts that `takePending` hands to a shared store. */
  sharePending (): void {
    this.#pending ??= new Map()
  }

  /** The counts since the last call, for the shared store; forgotten here. */
  takePending (): PendingCounts[] {
    const pending = [...(this.#pending?.values() ?? [])]
    this.#pending?.clear()
    return pending
  }

  /** Counts the store did not take (it was down): kept for the next flush, within the inventory's own bounds. */
  restorePending (counts: readonly PendingCounts[]): void {
    const pending = this.#pending
    /* c8 ignore next -- only a sharing inventory hands out counts */
    if (pending === undefined) return
    for (const { entry, tally } of counts) {
      const key = pendingKey(entry)
      const current = pending.get(key)
      if (current === undefined) {
        if (entry.kind === 'unknown' && pending.size >= MAX_UNKNOWN_CALLERS + this.#integrations.size) continue
        pending.set(key, { entry, tally })
      } else {
        mergeTally(current.tally, tally)
      }
    }
  }

  record (call: InventoryCall): void {
    const known = call.integration === undefined ? undefined : this.#integrations.get(call.integration.name)
    let tally: Tally
    if (known !== undefined) {
      tally = known.tally
    } else {
      const key = `${call.login ?? ''}\u0000${call.caller}`
      let entry = this.#unknown.get(key)
      if (entry === undefined) {
        entry = { login: call.login, address: call.caller, tally: emptyTally() }
        this.#unknown.set(key, entry)
      }
      tally = entry.tally
    }
    const now = this.#now()
    count(tally, call, now)
    if (this.#pending !== undefined) {
      const entry: PendingCounts['entry'] = known !== undefined ? { kind: 'integration', name: known.config.name } : { kind: 'unknown', login: call.login, address: call.caller }
      const key = pendingKey(entry)
      let pending = this.#pending.get(key)
      if (pending === undefined) {
        // Bounded like the inventory: its integrations and as many unknown callers as it keeps.
        if (entry.kind === 'unknown' && this.#pending.size >= MAX_UNKNOWN_CALLERS + this.#integrations.size) return
        pending = { entry, tally: emptyTally() }
        this.#pending.set(key, pending)
      }
      count(pending.tally, call, now)
    }
  }

  /** The configured integrations, as the report lists them (name, mode, account, lists). */
  configured (): ReadonlyArray<IntegrationConfig> {
    return [...this.#integrations.values()].map(({ config }) => config)
  }

  report (): InventoryReport {
    return {
      generatedAt: new Date(this.#now()).toISOString(),
      integrations: [...this.#integrations.values()].map(({ config, tally }) => integrationEntry(config, tally)),
      unknownCallers: [...this.#unknown.values()].map(({ login, address, tally }) => ({ login: login ?? null, address, ...entryOf(tally) })),
    }
  }
}

function pendingKey (entry: PendingCounts['entry']): string {
  return entry.kind === 'integration' ? `i\u0000${entry.name}` : `u\u0000${entry.login ?? ''}\u0000${entry.address}`
}

function count (tally: Tally, call: InventoryCall, now: number): void {
  tally.calls += 1
  tally.lastSeen = now
  if (call.refused) bump(tally.refusedMethods, call.soapMethod ?? call.path, MAX_METHODS_PER_ENTRY)
  else if (call.soapMethod !== undefined) bump(tally.methods, call.soapMethod, MAX_METHODS_PER_ENTRY)
  // Instance names come from the configuration: bounded like the methods all the same.
  if (call.campaign !== undefined) bump(tally.campaigns, call.campaign, MAX_METHODS_PER_ENTRY)
  bump(tally.authPaths, call.authPath)
  if (call.fault !== undefined) bump(tally.faults, call.fault)
  bump(tally.statuses, String(call.status))
}

/** Adds `more` to `tally` (lastSeen: the later). */
export function mergeTally (tally: Tally, more: Tally): void {
  tally.calls += more.calls
  if (more.lastSeen !== undefined && (tally.lastSeen === undefined || more.lastSeen > tally.lastSeen)) tally.lastSeen = more.lastSeen
  const add = (into: Map<string, number>, from: Map<string, number>): void => {
    for (const [k, n] of from) into.set(k, (into.get(k) ?? 0) + n)
  }
  add(tally.methods, more.methods)
  add(tally.refusedMethods, more.refusedMethods)
  add(tally.campaigns, more.campaigns)
  add(tally.authPaths, more.authPaths)
  add(tally.faults, more.faults)
  add(tally.statuses, more.statuses)
}

/** One integration's report entry: its configuration and its counts. */
export function integrationEntry (config: IntegrationConfig, tally: Tally): InventoryReport['integrations'][number] {
  return {
    name: config.name,
    mode: config.mode,
    // A per-instance map: instance name → account.
    technicalAccount: typeof config.technicalAccount === 'object' ? Object.fromEntries(config.technicalAccount) : config.technicalAccount ?? null,
    allowedMethods: config.allowedMethods ?? null,
    allowedPaths: config.allowedPaths ?? null,
    ...entryOf(tally),
  }
}

export function entryOf (tally: Tally): InventoryEntry {
  return {
    calls: tally.calls,
    lastSeen: tally.lastSeen === undefined ? null : new Date(tally.lastSeen).toISOString(),
    methods: Object.fromEntries(tally.methods),
    refused: Object.fromEntries(tally.refusedMethods),
    campaigns: Object.fromEntries(tally.campaigns),
    authPaths: Object.fromEntries(tally.authPaths),
    faults: Object.fromEntries(tally.faults),
    statuses: Object.fromEntries(tally.statuses),
  }
}
