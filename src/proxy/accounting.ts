/**
 * Metrics, the migration inventory and the access line: once per request,
 * when its answer ended or when the client went away first (recorded as
 * 499, as nginx logs it).
 */
import type { Inventory } from '../observability/inventory.js'
import type { AccessLog } from '../observability/logger.js'
import type { ProxyMetrics } from '../observability/metrics.js'
import { PROXY_FAULTS, type ProxyFaultName } from '../soap/faults.js'
import type { ProxyContext } from './context.js'

/** Status recorded for a request whose client went away before the answer. */
export const CLIENT_CLOSED_REQUEST = 499

export interface AccountedRequest {
  readonly id: string
  readonly method: string
  readonly url: string
  readonly headers: { readonly 'content-length'?: string }
  readonly proxy: ProxyContext | null
}

export type RecordRequest = (request: AccountedRequest, status: number, bytesOut: unknown) => void

/** `accessLog`: the logger of access lines (observability/logger.ts `accessLogger`). */
export function accounting (metrics: ProxyMetrics, inventory: Inventory, accessLog: AccessLog, clock: () => number): RecordRequest {
  return (request, status, bytesOut) => {
    const context = request.proxy
    /* c8 ignore next -- requests refused before the handler (a malformed request line) have no context */
    if (context === null || context.accounted) return
    context.accounted = true
    const totalMs = clock() - context.startedAt
    const upstreamMs = context.upstreamMs
    const integration = integrationOf(context)
    const fault = faultCode(context.fault)
    metrics.request({
      campaign: context.campaign,
      integration,
      soapMethod: context.soapMethod,
      authPath: context.authPath,
      status,
      fault,
      totalSeconds: totalMs / 1000,
      upstreamSeconds: upstreamMs === undefined ? undefined : upstreamMs / 1000,
    })
    inventory.record({ integration: context.integration, caller: context.caller, login: context.login, soapMethod: context.soapMethod, refused: context.refused !== undefined, path: pathOf(request.url), campaign: context.campaign, authPath: context.authPath, fault, status })
    accessLog({
      reqId: request.id,
      method: request.method,
      path: pathOf(request.url),
      caller: context.caller,
      campaign: context.campaign,
      integration,
      account: context.token?.account,
      tokenFingerprint: context.token?.fingerprint,
      soapMethod: context.soapMethod,
      authPath: context.authPath,
      status,
      upstreamStatus: context.upstreamStatus,
      fault,
      replays: context.replays,
      bytesIn: numberOf(request.headers['content-length']),
      bytesOut: numberOf(bytesOut),
      durationMs: round(totalMs),
      upstreamMs: upstreamMs === undefined ? undefined : round(upstreamMs),
    })
  }
}

/** The code a client sees in the fault string (`PRX-000010`, `XSV-350008`). */
function faultCode (fault: ProxyFaultName | undefined): string | undefined {
  return fault === undefined ? undefined : PROXY_FAULTS[fault].message.slice(0, 10)
}

/** The name of the integration a request is attributed to, if any. */
export function integrationOf (context: ProxyContext): string | undefined {
  return context.integration?.name
}

export function pathOf (url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

function numberOf (value: unknown): number | undefined {
  const n = Number(value)
  return value === undefined || !Number.isFinite(n) ? undefined : n
}

function round (ms: number): number {
  return Math.round(ms * 1000) / 1000
}
