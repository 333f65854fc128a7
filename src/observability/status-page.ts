/**
 * The migration status page, `GET /` on the admin listener
 * (docs/operations.md#migration-status-page): the inventory, the token
 * state and the accounts each Campaign instance is called with, as one
 * server-rendered HTML page without scripts or external assets. A pure
 * function: the route passes the data and the time.
 *
 * Logins and addresses come from the network (a passthrough Logon's
 * login): every dynamic value goes through `html`, which escapes whatever
 * is not already markup, in text and in attribute values alike.
 */
import { allowsMethod } from '../config/allow-list.js'
import type { AccountUses } from '../config/account-uses.js'
import { MAX_UNKNOWN_CALLERS, type InventoryReport } from './inventory.js'

export interface TokenState {
  readonly account: string
  readonly hasToken: boolean
  readonly expiresAt?: number | undefined
  readonly lastError?: string | undefined
}

export interface StatusPageInput {
  /** `scope`: with a shared store, whether the counts are the cluster's or (store unreachable) this replica's own. */
  readonly report: InventoryReport & { readonly scope?: 'cluster' | 'replica' }
  readonly tokens: readonly TokenState[]
  readonly uses: AccountUses
  /** ms epoch: the page's time, for "ago" and "in". */
  readonly now: number
}

/** The headers the page is sent with: nothing runs, nothing loads, nothing is kept. */
export const STATUS_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
}

/** Seconds between the page's own reloads. */
export const REFRESH_SECONDS = 30

/** Logon and Logoff are authentication, always allowed (docs/configuration.md#least-privilege): never "not listed". */
const ALWAYS_ALLOWED = new Set(['xtk:session#Logon', 'xtk:session#Logoff'])

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Text as HTML text or as a quoted attribute value. */
export function escapeHtml (value: string): string {
  return value.replace(/[&<>"']/g, c => ESCAPES[c] as string)
}

/** Markup already built (by `html`): the only thing `html` inserts unescaped. */
class Markup {
  readonly text: string
  constructor (text: string) {
    this.text = text
  }
}

type Value = string | number | Markup | readonly Markup[]

/** A template whose every interpolated value is escaped, unless it is markup `html` built. */
function html (strings: TemplateStringsArray, ...values: Value[]): Markup {
  let text = strings[0] as string
  values.forEach((value, i) => {
    if (value instanceof Markup) text += value.text
    else if (Array.isArray(value)) text += value.map(part => part.text).join('')
    else text += escapeHtml(String(value))
    text += strings[i + 1] as string
  })
  return new Markup(text)
}

/** A duration as a person reads it: 42 s, 5 min, 3 h 20 min, 2 d 4 h. */
export function duration (ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`
}

function lastSeen (iso: string | null, now: number): Markup {
  if (iso === null) return html`<span class="muted">never</span>`
  return html`<time datetime="${iso}">${iso}</time> <span class="muted">(${duration(now - Date.parse(iso))} ago)</span>`
}

/** A record's entries, the largest count first, then by name. */
const byCount = (record: Readonly<Record<string, number>>): Array<[string, number]> =>
  Object.entries(record).sort(([a, x], [b, y]) => y - x || a.localeCompare(b))

/** `name count` pairs, the largest first, or a dash. */
function counts (record: Readonly<Record<string, number>>, cls = 'count'): Markup {
  const entries = byCount(record)
  if (entries.length === 0) return html`<span class="muted">—</span>`
  return html`<ul class="counts">${entries.map(([name, n]) => html`<li class="${cls}"><code>${name}</code> ${n}</li>`)}</ul>`
}

/** `3 integrations`, `1 integration`, the number in bold. */
const count = (n: number, noun: string): Markup => html`<strong>${n}</strong> ${noun}${n === 1 ? '' : 's'}`

const modeBadge = (mode: string): Markup => mode === 'passthrough'
  ? html`<span class="badge legacy">passthrough · legacy authentication</span>`
  : html`<span class="badge ims">${mode} · migrated</span>`

type Integration = InventoryReport['integrations'][number]

/** The account the integration's calls on `instance` carry, as the page says it. */
function accountOn (integration: Integration, instance: string): Markup {
  const { technicalAccount } = integration
  if (technicalAccount === null) return html`<span class="muted">none (its own Campaign login)</span>`
  if (typeof technicalAccount === 'string') return html`<code>${technicalAccount}</code>`
  const account = technicalAccount[instance]
  return account === undefined ? html`<span class="warn">none on this instance (refused)</span>` : html`<code>${account}</code>`
}

/** Allowed methods against the methods used and the calls refused. */
function methods (integration: Integration): Markup {
  const { allowedMethods, methods: used, refused } = integration
  const usedNames = Object.keys(used)
  const allowed = allowedMethods === null
    ? html`<span class="muted">all methods</span>`
    : html`<ul class="counts">${allowedMethods.map(entry => usedNames.some(name => allowsMethod([entry], name))
        ? html`<li><code>${entry}</code></li>`
        : html`<li class="unused" title="listed, never called"><code>${entry}</code> <span class="note">unused</span></li>`)}</ul>`
  const usedList = usedNames.length === 0
    ? html`<span class="muted">—</span>`
    : html`<ul class="counts">${byCount(used).map(([name, n]) =>
        allowedMethods === null || ALWAYS_ALLOWED.has(name) || allowsMethod(allowedMethods, name)
          ? html`<li><code>${name}</code> ${n}</li>`
          : html`<li class="unlisted" title="called, not in allowedMethods"><code>${name}</code> ${n} <span class="note">not listed</span></li>`)}</ul>`
  const paths = integration.allowedPaths !== null
    ? html`<ul class="counts">${integration.allowedPaths.map(path => html`<li><code>${path}</code></li>`)}</ul>`
    : allowedMethods === null ? html`<span class="muted">all paths</span>` : html`<span class="muted">SOAP router and WSDL only</span>`
  return html`<dl class="methods"><dt>allowed</dt><dd class="allowed">${allowed}</dd><dt>used</dt><dd class="used">${usedList}</dd><dt>refused</dt><dd class="refused">${counts(refused, 'refused')}</dd><dt>paths</dt><dd class="paths">${paths}</dd></dl>`
}

function integrationRow (integration: Integration, instance: string, now: number): Markup {
  return html`<tr class="${integration.mode === 'passthrough' ? 'legacy' : 'migrated'}" data-integration="${integration.name}">
<th scope="row" class="name">${integration.name}</th>
<td class="mode">${modeBadge(integration.mode)}</td>
<td class="account">${accountOn(integration, instance)}</td>
<td class="calls num">${integration.campaigns[instance] ?? 0}</td>
<td class="last-seen">${lastSeen(integration.lastSeen, now)}</td>
<td class="auth-paths">${counts(integration.authPaths)}</td>
<td class="faults">${counts(integration.faults, 'fault')}</td>
<td class="method-lists">${methods(integration)}</td>
</tr>`
}

/** On `instance`: the integrations configured for it (one account, none, or a map naming it) or with calls there. */
function isOn (integration: Integration, instance: string): boolean {
  const { technicalAccount } = integration
  return (integration.campaigns[instance] ?? 0) > 0 || technicalAccount === null || typeof technicalAccount === 'string' || technicalAccount[instance] !== undefined
}

function tokenBadge (hasToken: boolean | undefined): Markup {
  return hasToken === true ? html`<span class="badge ims">token</span>` : html`<span class="badge legacy">no token</span>`
}

function instanceSection (instance: string, accounts: readonly string[] | undefined, input: StatusPageInput, hasToken: ReadonlyMap<string, boolean>): Markup {
  const rows = input.report.integrations.filter(integration => isOn(integration, instance))
  const calledWith = accounts === undefined
    ? html`<p class="warn">Not in the configuration in force: calls counted before a reload.</p>`
    : accounts.length === 0
      ? html`<p class="muted">No technical account is used on this instance.</p>`
      : html`<p>Technical accounts: ${accounts.map((account, i) => html`${i === 0 ? '' : ', '}<code>${account}</code> ${tokenBadge(hasToken.get(account))}`)}</p>`
  const body = rows.length === 0
    ? html`<p class="muted">No integration on this instance.</p>`
    : html`<table class="integrations">
<thead><tr><th scope="col">Integration</th><th scope="col">Mode</th><th scope="col">Account here</th><th scope="col">Calls here</th><th scope="col">Last seen</th><th scope="col">Auth paths</th><th scope="col">Faults</th><th scope="col">Methods</th></tr></thead>
<tbody>${rows.map(integration => integrationRow(integration, instance, input.now))}</tbody>
</table>`
  return html`<section class="instance" data-instance="${instance}">
<h2>Campaign instance <code>${instance}</code></h2>
${calledWith}
${body}
</section>`
}

function unknownCallersSection (report: InventoryReport, now: number): Markup {
  const callers = report.unknownCallers
  if (callers.length === 0) return html`<section class="unknown"><h2>Unknown callers</h2><p class="muted">None.</p></section>`
  const bounded = callers.length >= MAX_UNKNOWN_CALLERS ? html` <span class="muted">(the ${MAX_UNKNOWN_CALLERS} most recently seen)</span>` : html``
  return html`<section class="unknown">
<h2>Unknown callers${bounded}</h2>
<p>Callers no integration is configured for. One with a login is a legacy integration to map.</p>
<table class="unknown-callers">
<thead><tr><th scope="col">Login</th><th scope="col">Address</th><th scope="col">Calls</th><th scope="col">Per instance</th><th scope="col">Auth paths</th><th scope="col">Faults</th><th scope="col">Last seen</th></tr></thead>
<tbody>${callers.map(caller => html`<tr class="${caller.login === null ? 'anonymous' : 'legacy'}">
<td class="login">${caller.login === null ? html`<span class="muted">none</span>` : html`<code>${caller.login}</code>`}</td>
<td class="address"><code>${caller.address}</code></td>
<td class="calls num">${caller.calls}</td>
<td class="campaigns">${counts(caller.campaigns)}</td>
<td class="auth-paths">${counts(caller.authPaths)}</td>
<td class="faults">${counts(caller.faults, 'fault')}</td>
<td class="last-seen">${lastSeen(caller.lastSeen, now)}</td>
</tr>`)}</tbody>
</table>
</section>`
}

function tokensSection (input: StatusPageInput): Markup {
  const uses = [...input.uses]
  const rows = input.tokens.map(state => {
    const on = uses.filter(([, accounts]) => accounts.includes(state.account)).map(([instance]) => instance)
    const expires = state.expiresAt === undefined
      ? html`<span class="muted">—</span>`
      : html`<time datetime="${new Date(state.expiresAt).toISOString()}">${new Date(state.expiresAt).toISOString()}</time> <span class="muted">(in ${duration(state.expiresAt - input.now)})</span>`
    return html`<tr class="${state.hasToken ? 'migrated' : 'legacy'}" data-account="${state.account}">
<th scope="row"><code>${state.account}</code></th>
<td class="token">${tokenBadge(state.hasToken)}</td>
<td class="expires">${expires}</td>
<td class="last-error">${state.lastError === undefined ? html`<span class="muted">—</span>` : html`<span class="warn">${state.lastError}</span>`}</td>
<td class="used-on">${on.length === 0 ? html`<span class="muted">no instance</span>` : on.join(', ')}</td>
</tr>`
  })
  return html`<section class="tokens">
<h2>Technical accounts</h2>
${rows.length === 0
    ? html`<p class="muted">No technical account is configured.</p>`
    : html`<table class="accounts"><thead><tr><th scope="col">Account</th><th scope="col">Token</th><th scope="col">Expires</th><th scope="col">Last error</th><th scope="col">Used on</th></tr></thead><tbody>${rows}</tbody></table>`}
</section>`
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d1d1f; background: #fafafa; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.summary { font-size: 1rem; padding: .6rem .8rem; background: #fff; border: 1px solid #ddd; border-radius: 6px; }
.summary strong { font-weight: 600; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border: 1px solid #ddd; padding: .35rem .5rem; text-align: left; vertical-align: top; }
thead th { background: #f0f0f3; font-weight: 600; }
tr.legacy > th, tr.legacy > td { background: #fff6e5; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: 999px; font-size: .8rem; font-weight: 600; white-space: nowrap; }
.badge.ims { background: #d9f2e3; color: #0b5a2b; }
.badge.legacy { background: #ffd8a8; color: #7a3a00; }
.muted { color: #6e6e73; }
.warn { color: #a40000; }
code { font: 12px ui-monospace, monospace; overflow-wrap: anywhere; }
ul.counts { list-style: none; margin: 0; padding: 0; }
dl.methods { display: grid; grid-template-columns: auto 1fr; gap: .1rem .5rem; margin: 0; }
dl.methods dt { color: #6e6e73; }
dl.methods dd { margin: 0; }
.note { font-size: .75rem; padding: 0 .3rem; border-radius: 3px; }
li.unlisted .note, li.refused { color: #a40000; }
li.unlisted .note { background: #ffe0e0; }
li.unused .note { background: #eee; color: #6e6e73; }
footer { margin-top: 1.5rem; color: #6e6e73; }
`

/** The whole page. */
/** Whose counts the page shows (fixed texts: nothing to escape). */
function scopeText (scope: 'cluster' | 'replica' | undefined): string {
  if (scope === 'cluster') return 'from the shared store: every replica\'s calls'
  if (scope === 'replica') return 'by this replica alone (the shared store cannot be reached): its own calls since it started'
  return 'by this replica, counting since it started'
}

export function renderStatusPage (input: StatusPageInput): string {
  const { report, now } = input
  const integrations = report.integrations
  const passthrough = integrations.filter(i => i.mode === 'passthrough').length
  const hasToken = new Map(input.tokens.map(s => [s.account, s.hasToken]))
  // Instances of the configuration in force, then any an entry still counts calls on (one removed by a reload).
  const instances = new Map<string, readonly string[] | undefined>(input.uses)
  for (const entry of [...integrations, ...report.unknownCallers]) {
    for (const instance of Object.keys(entry.campaigns)) if (!instances.has(instance)) instances.set(instance, undefined)
  }
  const generated = new Date(now).toISOString()
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${REFRESH_SECONDS}">
<title>Migration status · campaign-ims-proxy</title>
<style>${new Markup(STYLE)}</style>
</head>
<body>
<h1>Migration status</h1>
<p class="summary" id="summary">${count(integrations.length, 'integration')}: <strong>${integrations.length - passthrough}</strong> migrated (ims), <strong>${passthrough}</strong> still on passthrough (legacy authentication); ${count(report.unknownCallers.length, 'unknown caller')}.</p>
${[...instances].map(([instance, accounts]) => instanceSection(instance, accounts, input, hasToken))}
${unknownCallersSection(report, now)}
${tokensSection(input)}
<footer>Generated <time datetime="${generated}">${generated}</time> ${scopeText(report.scope)}; reloads every ${REFRESH_SECONDS} s. Auth paths, faults, methods and last seen count every instance; calls are per instance.</footer>
</body>
</html>
`.text
}
