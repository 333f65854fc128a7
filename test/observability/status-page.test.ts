// The migration status page's renderer (docs/operations.md#migration-status-page),
// without HTTP: every dynamic value escaped, text and attributes alike;
// passthrough against ims; integrations grouped per Campaign instance;
// allowed against used methods; token states; the summary.
import t from 'tap'
import { MAX_UNKNOWN_CALLERS, type InventoryReport } from '../../src/observability/inventory.js'
import { duration, escapeHtml, renderStatusPage, STATUS_PAGE_HEADERS, type StatusPageInput, type TokenState } from '../../src/observability/status-page.js'

const NOW = Date.parse('2026-11-24T09:00:00.000Z')
const ago = (ms: number): string => new Date(NOW - ms).toISOString()

type Integration = InventoryReport['integrations'][number]
type Caller = InventoryReport['unknownCallers'][number]

const entry = { calls: 0, lastSeen: null, methods: {}, refused: {}, campaigns: {}, authPaths: {}, faults: {}, statuses: {} }
const integration = (fields: Partial<Integration> & { name: string }): Integration =>
  ({ mode: 'ims', technicalAccount: 'marketing', allowedMethods: null, allowedPaths: null, ...entry, ...fields })
const caller = (fields: Partial<Caller> & { address: string }): Caller => ({ login: null, ...entry, ...fields })

function render (fields: Partial<StatusPageInput> & { integrations?: Integration[], unknownCallers?: Caller[] }): string {
  const { integrations = [], unknownCallers = [], ...rest } = fields
  return renderStatusPage({
    report: { generatedAt: new Date(NOW).toISOString(), integrations, unknownCallers },
    tokens: [],
    uses: new Map([['default', ['marketing']]]),
    now: NOW,
    ...rest,
  })
}

/** The markup between an opening tag carrying `marker` and the first `close` after it. */
function part (page: string, marker: string, close: string): string {
  const start = page.indexOf(marker)
  if (start === -1) return ''
  return page.slice(start, page.indexOf(close, start))
}
const section = (page: string, instance: string): string => part(page, `<section class="instance" data-instance="${instance}">`, '</section>')
const row = (html: string, name: string): string => part(html, `data-integration="${name}"`, '</tr>')
/** A cell's text: tags dropped, white space collapsed, the five entities decoded. */
function cell (html: string, cls: string): string {
  const raw = part(html, `<td class="${cls}`, '</td>').replace(/^<td[^>]*>/, '')
  return raw.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim()
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&')
}
const rowNames = (html: string): string[] => [...html.matchAll(/data-integration="([^"]*)"/g)].map(m => m[1] as string)
/** Every tag name in the page: only the renderer's own. */
const tagNames = (page: string): Set<string> => new Set([...page.matchAll(/<\/?([A-Za-z!][A-Za-z0-9]*)/g)].map(m => (m[1] as string).toLowerCase()))
const OWN_TAGS = ['!doctype', 'html', 'head', 'meta', 'title', 'style', 'body', 'h1', 'h2', 'p', 'strong', 'section', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'span', 'code', 'ul', 'li', 'dl', 'dt', 'dd', 'time', 'footer']

t.test('escapeHtml escapes the five characters that matter in text and quoted attributes', async t => {
  t.equal(escapeHtml('<script>alert("x")</script> & \'y\''), '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;')
  t.equal(escapeHtml('plain text 123'), 'plain text 123', 'other text is kept')
})

t.test('durations as a person reads them', async t => {
  t.same([duration(-5000), duration(42_999), duration(60_000), duration(3_599_000), duration(3_600_000 + 20 * 60_000), duration(86_400_000 * 2 + 4 * 3_600_000)],
    ['0 s', '42 s', '1 min', '59 min', '1 h 20 min', '2 d 4 h'])
})

t.test('a login, an address, names and errors from anywhere show as text, never as markup', async t => {
  const hostile = '<script>alert(1)</script>'
  const quotes = 'a"b\'c&d<e>'
  const page = render({
    integrations: [integration({
      name: quotes,
      technicalAccount: { [quotes]: 'acct"\'&' },
      calls: 1,
      lastSeen: ago(1000),
      methods: { [`x:y#${quotes}`]: 1 },
      refused: { [hostile]: 1 },
      campaigns: { [quotes]: 1 },
      authPaths: { '"\'&': 1 },
      faults: { [hostile]: 1 },
      allowedMethods: ['x:y#"\'&'],
      allowedPaths: ['/p"\'&<>'],
    })],
    unknownCallers: [caller({ login: hostile, address: '"\'&<>', calls: 2, campaigns: { [quotes]: 2 }, authPaths: { passthrough: 2 } })],
    tokens: [{ account: 'acct"\'&', hasToken: false, lastError: hostile }],
    uses: new Map([[quotes, ['acct"\'&']]]),
  })
  t.notMatch(page, /<script/i, 'no script element, whatever the login')
  t.same([...tagNames(page)].filter(name => !OWN_TAGS.includes(name)), [], 'no tag but the renderer\'s own')
  t.match(page, '<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>', 'the login is escaped text')
  t.match(page, 'data-integration="a&quot;b&#39;c&amp;d&lt;e&gt;"', 'a name in an attribute is escaped')
  t.match(page, 'data-instance="a&quot;b&#39;c&amp;d&lt;e&gt;"', 'so is an instance name')
  t.match(page, 'data-account="acct&quot;&#39;&amp;"', 'and an account name')
  t.notMatch(page, '"\'&', 'the raw characters appear nowhere')
  const mine = row(section(page, 'a&quot;b&#39;c&amp;d&lt;e&gt;'), 'a&quot;b&#39;c&amp;d&lt;e&gt;')
  t.same([cell(mine, 'account'), cell(mine, 'auth-paths'), cell(mine, 'faults')], ['acct"\'&', '"\'& 1', `${hostile} 1`], 'decoded, the cells read as the values')
  t.match(cell(page, 'last-error'), hostile, 'a token error is text too')
  t.match(cell(mine, 'method-lists'), 'x:y#"\'& unused', 'an allowedMethods entry is text')
  t.match(cell(mine, 'method-lists'), '/p"\'&<>', 'an allowedPaths entry too')
})

t.test('passthrough is marked as legacy authentication, ims as migrated; the summary counts them', async t => {
  const page = render({
    integrations: [
      integration({ name: 'nightly-etl', calls: 7, campaigns: { default: 7 } }),
      integration({ name: 'crm-sync', mode: 'passthrough', technicalAccount: null, calls: 2, campaigns: { default: 2 }, authPaths: { passthrough: 2 } }),
      integration({ name: 'billing', mode: 'passthrough', technicalAccount: null }),
    ],
    unknownCallers: [caller({ address: '10.0.0.1', calls: 1 }), caller({ address: '10.0.0.2', login: 'admin', calls: 1 })],
  })
  const summary = part(page, '<p class="summary"', '</p>').replace(/<[^>]*>/g, '')
  t.match(summary, '3 integrations: 1 migrated (ims), 2 still on passthrough (legacy authentication); 2 unknown callers.', 'the summary line')
  const here = section(page, 'default')
  t.match(here, '<tr class="legacy" data-integration="crm-sync">', 'a passthrough row is tinted')
  t.match(row(here, 'crm-sync'), '<span class="badge legacy">passthrough · legacy authentication</span>', 'and badged')
  t.match(row(here, 'nightly-etl'), '<span class="badge ims">ims · migrated</span>', 'an ims one is badged as migrated')
  t.equal(cell(row(here, 'crm-sync'), 'account'), 'none (its own Campaign login)', 'passthrough carries no account')
  t.equal(cell(row(here, 'billing'), 'last-seen'), 'never', 'an integration never seen')
  t.equal(cell(row(here, 'billing'), 'calls'), '0', 'has no call')
  const one = render({ integrations: [integration({ name: 'solo' })], unknownCallers: [caller({ address: '10.0.0.1' })] })
  t.match(part(one, '<p class="summary"', '</p>').replace(/<[^>]*>/g, ''), '1 integration: 1 migrated (ims), 0 still on passthrough (legacy authentication); 1 unknown caller.', 'in the singular')
  t.match(page, `Generated <time datetime="${new Date(NOW).toISOString()}">`, 'the page says when it was generated')
  t.match(page, '<meta http-equiv="refresh" content="30">', 'and reloads itself')
})

t.test('integrations grouped per instance: calls there, the account there', async t => {
  const page = render({
    uses: new Map([['marketing', ['marketing', 'events']], ['messageCenter', ['events']], ['spare', []]]),
    tokens: [{ account: 'marketing', hasToken: true, expiresAt: NOW + 3_600_000 }, { account: 'events', hasToken: false }],
    integrations: [
      integration({ name: 'everywhere', calls: 5, lastSeen: ago(90_000), campaigns: { marketing: 3, messageCenter: 2 } }),
      integration({ name: 'website-events', technicalAccount: { marketing: 'marketing', messageCenter: 'events' }, calls: 4, campaigns: { messageCenter: 4 } }),
      integration({ name: 'mc-only', technicalAccount: { messageCenter: 'events' } }),
      integration({ name: 'mkt-map', technicalAccount: { marketing: 'marketing' }, calls: 1, campaigns: { messageCenter: 1 }, faults: { 'PRX-000002': 1 } }),
      integration({ name: 'old', calls: 2, campaigns: { removed: 2 } }),
    ],
    unknownCallers: [caller({ address: '10.0.0.9', calls: 1, campaigns: { removed: 1 } })],
  })
  const marketing = section(page, 'marketing')
  const mc = section(page, 'messageCenter')
  t.same(rowNames(marketing), ['everywhere', 'website-events', 'mkt-map', 'old'], 'marketing: one account everywhere, a map naming it (even without calls)')
  t.same(rowNames(mc), ['everywhere', 'website-events', 'mc-only', 'mkt-map', 'old'], 'Message Center: its own, and a map not naming it that called it anyway')
  t.same([cell(row(marketing, 'everywhere'), 'calls'), cell(row(mc, 'everywhere'), 'calls')], ['3', '2'], 'calls are per instance')
  t.same([cell(row(marketing, 'website-events'), 'calls'), cell(row(mc, 'website-events'), 'calls')], ['0', '4'], 'zero where it made none')
  t.same([cell(row(marketing, 'website-events'), 'account'), cell(row(mc, 'website-events'), 'account')], ['marketing', 'events'], 'the map\'s account per instance')
  t.equal(cell(row(mc, 'mkt-map'), 'account'), 'none on this instance (refused)', 'an instance the map does not name')
  t.equal(cell(row(marketing, 'everywhere'), 'last-seen'), `${ago(90_000)} (1 min ago)`, 'last seen, and how long ago')
  t.match(part(marketing, '<p>', '</p>').replace(/<[^>]*>/g, ''), 'Technical accounts: marketing token, events no token', 'the accounts an instance is called with, and their tokens')
  t.match(section(page, 'spare'), 'No technical account is used on this instance.', 'an instance no account is used on')
  t.match(section(render({ uses: new Map([['spare', []]]), integrations: [integration({ name: 'elsewhere', technicalAccount: { other: 'marketing' } })] }), 'spare'),
    'No integration on this instance.', 'an instance no integration is configured for or called')
  const removed = section(page, 'removed')
  t.match(removed, 'Not in the configuration in force', 'an instance an entry still counts calls on, no longer configured, is shown and said so')
  t.equal(cell(row(removed, 'old'), 'calls'), '2', 'with those calls')
  t.equal(page.split('data-instance="removed"').length, 2, 'once, though several entries count calls on it')
})

t.test('allowed methods against the methods used, and refused calls', async t => {
  const page = render({
    integrations: [
      integration({ name: 'open', methods: { 'xtk:session#GetOption': 2 } }),
      integration({
        name: 'tight',
        allowedMethods: ['nms:rtEvent#*', 'xtk:queryDef#ExecuteQuery', 'xtk:session#GetOption'],
        methods: { 'xtk:session#Logon': 1, 'nms:rtEvent#PushEvent': 3, 'xtk:session#GetOption': 3, 'xtk:workflow#PostEvent': 1 },
        refused: { 'xtk:session#Write': 2, '/nl/jsp/ping.jsp': 1 },
      }),
      integration({ name: 'paths', allowedMethods: ['nms:rtEvent#PushEvent'], allowedPaths: ['/nl/jsp/mcPing.jsp'] }),
    ],
  })
  const open = row(page, 'open')
  t.same([cell(open, 'method-lists')], ['allowed all methods used xtk:session#GetOption 2 refused — paths all paths'], 'no allowedMethods: all methods, all paths')
  const tight = row(page, 'tight')
  t.match(cell(tight, 'method-lists'), 'allowed nms:rtEvent#* xtk:queryDef#ExecuteQuery unused xtk:session#GetOption', 'a listed entry never used is marked unused (a schema wildcard counts as used)')
  t.match(cell(tight, 'method-lists'), 'used nms:rtEvent#PushEvent 3 xtk:session#GetOption 3 xtk:session#Logon 1 xtk:workflow#PostEvent 1 not listed', 'the most used first, by name on a tie; Logon is always allowed, a call not in the list is marked')
  t.match(cell(tight, 'method-lists'), 'refused xtk:session#Write 2 /nl/jsp/ping.jsp 1', 'refused calls, by method or path')
  t.match(cell(tight, 'method-lists'), 'paths SOAP router and WSDL only', 'allowedMethods alone: no other path')
  t.match(cell(row(page, 'paths'), 'method-lists'), 'paths /nl/jsp/mcPing.jsp', 'allowedPaths listed')
  t.match(tight, '<li class="unlisted" title="called, not in allowedMethods">', 'not listed is highlighted')
})

t.test('token states: a token and when it expires, none and the last error, the instances using it', async t => {
  const tokens: TokenState[] = [
    { account: 'marketing', hasToken: true, expiresAt: NOW + 86_399_000 },
    { account: 'events', hasToken: false, lastError: 'IMS answered 401 invalid_client' },
    { account: 'spare', hasToken: true, expiresAt: NOW + 30_000, lastError: 'timeout' },
  ]
  const page = render({ tokens, uses: new Map([['marketing', ['marketing', 'events']], ['messageCenter', ['events']]]) })
  const account = (name: string): string => part(page, `data-account="${name}"`, '</tr>')
  t.same([cell(account('marketing'), 'token'), cell(account('marketing'), 'expires'), cell(account('marketing'), 'last-error'), cell(account('marketing'), 'used-on')],
    ['token', `${new Date(NOW + 86_399_000).toISOString()} (in 23 h 59 min)`, '—', 'marketing'], 'a valid token: when it expires, and in how long')
  t.same([cell(account('events'), 'token'), cell(account('events'), 'expires'), cell(account('events'), 'last-error'), cell(account('events'), 'used-on')],
    ['no token', '—', 'IMS answered 401 invalid_client', 'marketing, messageCenter'], 'no token: the last error, the instances that need it')
  t.same([cell(account('spare'), 'expires'), cell(account('spare'), 'last-error'), cell(account('spare'), 'used-on')],
    [`${new Date(NOW + 30_000).toISOString()} (in 30 s)`, 'timeout', 'no instance'], 'an account no instance uses')
  t.match(page, '<tr class="legacy" data-account="events">', 'an account without a token is tinted')
  t.match(render({ tokens: [] }), 'No technical account is configured.', 'none configured')
})

t.test('unknown callers: login or none, address, calls, per instance, auth paths, last seen; bounded', async t => {
  const page = render({
    unknownCallers: [
      caller({ login: 'admin', address: '10.30.4.17', calls: 2, lastSeen: ago(5000), campaigns: { default: 2 }, authPaths: { passthrough: 2 }, faults: {} }),
      caller({ address: '10.30.4.18', calls: 1, lastSeen: ago(7_200_000), campaigns: { default: 1 }, authPaths: { anonymous: 1 }, faults: { 'PRX-000009': 1 } }),
    ],
  })
  const rows = part(page, '<table class="unknown-callers">', '</table>').split('<tr class=').slice(1)
  t.same(rows.map(r => ['login', 'address', 'calls', 'campaigns', 'auth-paths', 'faults', 'last-seen'].map(c => cell(r, c))), [
    ['admin', '10.30.4.17', '2', 'default 2', 'passthrough 2', '—', `${ago(5000)} (5 s ago)`],
    ['none', '10.30.4.18', '1', 'default 1', 'anonymous 1', 'PRX-000009 1', `${ago(7_200_000)} (2 h 0 min ago)`],
  ], 'one row per caller')
  t.same(rows.map(r => r.slice(0, 12)), ['"legacy">\n<t', '"anonymous">'], 'a caller with a login stands out: a legacy integration to map')
  t.match(render({}), '<h2>Unknown callers</h2><p class="muted">None.</p>', 'none yet')
  t.notMatch(page, 'most recently seen', 'under the bound, not said')
  const full = render({ unknownCallers: Array.from({ length: MAX_UNKNOWN_CALLERS }, (_, i) => caller({ address: `10.1.${i >> 8}.${i & 255}`, calls: 1 })) })
  t.match(full, `Unknown callers <span class="muted">(the ${MAX_UNKNOWN_CALLERS} most recently seen)</span>`, 'at the bound, the page says it shows the most recent ones')
  t.ok(full.length < 2_000_000, `and stays bounded (${full.length} characters)`)
})

t.test('the headers the page is sent with', async t => {
  t.same(STATUS_PAGE_HEADERS, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  })
})

t.test('the footer says whose counts the page shows', async t => {
  const footer = (scope: 'cluster' | 'replica' | undefined): string => {
    const report = { generatedAt: new Date(NOW).toISOString(), integrations: [], unknownCallers: [], ...(scope === undefined ? {} : { scope }) }
    return part(render({ report }), '<footer', '</footer>')
  }
  t.match(footer(undefined), 'by this replica, counting since it started', 'without a shared store: this replica')
  t.match(footer('cluster'), 'from the shared store: every replica&#39;s calls', 'with the store: the cluster')
  t.match(footer('replica'), 'by this replica alone (the shared store cannot be reached)', 'the store unreachable: said so')
})
