// Bounds of the metrics and the inventory (request data must not grow them
// without limit), and the response head reader on multi-chunk bodies.
import { Readable } from 'node:stream'
import t from 'tap'
import type { IntegrationConfig } from '../../src/config/types.js'
import { emptyTally, Inventory, MAX_METHODS_PER_ENTRY, MAX_UNKNOWN_CALLERS, type InventoryCall } from '../../src/observability/inventory.js'
import { MAX_METHOD_LABELS, MAX_PENDING_OBSERVATIONS, ProxyMetrics } from '../../src/observability/metrics.js'
import { gather, gathered, joined, MAX_SMALL_CHUNKS, readUpTo, SMALL_CHUNK_BYTES } from '../../src/io/streams.js'

const CRM: IntegrationConfig = { name: 'crm', mode: 'passthrough', login: 'crm', passwordHash: undefined, networks: [], clientCertificates: [], technicalAccount: undefined, allowedMethods: undefined, allowedPaths: undefined }

t.test('SOAP method labels are capped', async t => {
  const metrics = new ProxyMetrics({ tokens: { status: () => [{ account: 'a', expiresAt: undefined }] }, defaultMetrics: false })
  for (let i = 0; i < MAX_METHOD_LABELS + 5; i++) {
    metrics.request({ campaign: 'default', integration: undefined, soapMethod: `x:y#M${i}`, authPath: 'passthrough', status: 200, fault: undefined, totalSeconds: 0.01, upstreamSeconds: 0.005 })
  }
  metrics.request({ campaign: 'default', integration: undefined, soapMethod: 'x:y#M0', authPath: 'passthrough', status: 200, fault: undefined, totalSeconds: 0.01, upstreamSeconds: undefined })
  const text = await metrics.text()
  const series = text.split('\n').filter(l => l.startsWith('campaign_ims_proxy_requests_total{'))
  t.equal(series.length, MAX_METHOD_LABELS + 1, `${MAX_METHOD_LABELS} method labels, then one "other"`)
  t.match(text, 'soap_method="other"', 'the rest is counted as other')
  t.match(text, /requests_total\{[^}]*soap_method="x:y#M0"[^}]*\} 2/, 'a known method keeps its label')
  t.match(text, 'campaign_ims_proxy_token_expiry_seconds{account="a"} 0', 'an account without a token shows 0 seconds')
  t.notMatch(text, 'process_cpu', 'default metrics can be left out')
})

t.test('the inventory bounds unknown callers and methods, and lists silent integrations', async t => {
  let now = Date.parse('2026-11-24T10:00:00Z')
  const inventory = new Inventory([CRM], () => now)
  t.same(inventory.report().integrations, [{ name: 'crm', mode: 'passthrough', technicalAccount: null, allowedMethods: null, allowedPaths: null, calls: 0, lastSeen: null, methods: {}, refused: {}, campaigns: {}, authPaths: {}, faults: {}, statuses: {} }], 'an integration without calls is listed with none')
  for (let i = 0; i < MAX_METHODS_PER_ENTRY + 3; i++) {
    inventory.record({ integration: CRM, caller: '10.0.0.1', login: 'crm', soapMethod: `x:y#M${i}`, refused: false, path: '/nl/jsp/soaprouter.jsp', campaign: 'default', authPath: 'passthrough', fault: undefined, status: 200 })
  }
  const crm = inventory.report().integrations[0]
  t.equal(Object.keys(crm?.methods ?? {}).length, MAX_METHODS_PER_ENTRY + 1, 'methods per entry are capped')
  t.equal(crm?.methods.other, 3, 'the rest under other')
  t.same(crm?.campaigns, { default: MAX_METHODS_PER_ENTRY + 3 }, 'calls are counted per Campaign instance')
  for (let i = 0; i < MAX_UNKNOWN_CALLERS + 10; i++) {
    now += 1
    inventory.record({ integration: undefined, caller: `10.1.${i >> 8}.${i & 255}`, login: undefined, soapMethod: undefined, refused: false, path: '/r/test', campaign: undefined, authPath: 'anonymous', fault: undefined, status: 200 })
  }
  const unknown = inventory.report().unknownCallers
  t.equal(unknown.length, MAX_UNKNOWN_CALLERS, 'unknown callers are capped')
  t.notOk(unknown.some(u => u.address === '10.1.0.0'), 'the least recently seen went first')
  inventory.configure([])
  t.same(inventory.report().integrations, [], 'a removed integration leaves the inventory')
})

t.test('readUpTo stops at the chunk that crosses the limit and leaves the rest unread', async t => {
  const chunks = Array.from({ length: 6 }, (_, i) => Buffer.alloc(30, 65 + i))
  const iterator = Readable.from(chunks)[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  const into = gathered()
  t.equal(await readUpTo(iterator, 64, into), false, 'a body over the limit has not ended')
  t.same([into.size, into.chunks.length], [90, 3], 'three chunks of 30 bytes: the third crosses 64')
  t.equal(await readUpTo(iterator, 1000, into), true, 'reading on to the end says so')
  t.same(joined(into), Buffer.concat(chunks), 'every byte, in order')
  const small = gathered()
  t.equal(await readUpTo(Readable.from([Buffer.from('ab')])[Symbol.asyncIterator]() as AsyncIterator<Buffer>, 64, small), true, 'a small body ends within the limit')
  t.equal(joined(small).toString(), 'ab', 'and is joined without a copy')
})

t.test('counts pending for a shared store: taken once, restored and merged when the store failed, bounded', async t => {
  let now = Date.parse('2026-11-24T10:00:00Z')
  const call = (soapMethod: string, caller = '10.0.0.1', known = true): InventoryCall => ({ integration: known ? CRM : undefined, caller, login: 'crm', soapMethod, refused: false, path: '/nl/jsp/soaprouter.jsp', campaign: 'default', authPath: 'passthrough', fault: undefined, status: 200 })
  t.same(new Inventory([CRM]).takePending(), [], 'an inventory that shares nothing has nothing pending')
  const inventory = new Inventory([CRM], () => now)
  inventory.sharePending()
  inventory.record(call('x:y#A'))
  const taken = inventory.takePending()
  t.equal(taken.length, 1, 'one entry pending')
  t.same(inventory.takePending(), [], 'taken once')
  now += 1000
  inventory.record(call('x:y#B'))
  inventory.restorePending(taken)
  const merged = inventory.takePending()
  t.equal(merged[0]?.tally.calls, 2, 'restored counts merged with the ones recorded since')
  t.same(Object.fromEntries(merged[0]?.tally.methods ?? []), { 'x:y#A': 1, 'x:y#B': 1 }, 'method by method')
  t.equal(merged[0]?.tally.lastSeen, now, 'the later last seen kept')
  inventory.restorePending([{ entry: { kind: 'integration', name: 'crm' }, tally: { ...emptyTally(), calls: 1, lastSeen: now - 5000 } }])
  t.equal(inventory.takePending()[0]?.tally.lastSeen, now - 5000, 'an entry restored alone keeps its own last seen')
  inventory.restorePending(merged)
  inventory.restorePending([{ entry: { kind: 'integration', name: 'crm' }, tally: { ...emptyTally(), calls: 1 } }])
  t.equal(inventory.takePending()[0]?.tally.lastSeen, now, 'a restored tally without last seen leaves it')
  inventory.restorePending([{ entry: { kind: 'integration', name: 'crm' }, tally: { ...emptyTally(), calls: 1 } }])
  inventory.restorePending([{ entry: { kind: 'integration', name: 'crm' }, tally: { ...emptyTally(), calls: 1, lastSeen: now } }])
  t.equal(inventory.takePending()[0]?.tally.lastSeen, now, 'a tally without last seen takes the restored one\'s')
  for (let i = 0; i <= MAX_UNKNOWN_CALLERS + 1; i++) inventory.record(call('x:y#A', `10.2.${i >> 8}.${i & 255}`, false))
  const full = inventory.takePending()
  t.equal(full.length, MAX_UNKNOWN_CALLERS + 1, 'pending entries are bounded by the integrations and as many unknown callers as the inventory keeps (one more left out)')
  inventory.restorePending(full)
  inventory.restorePending([{ entry: { kind: 'unknown', login: undefined, address: '10.9.9.9' }, tally: emptyTally() }])
  t.equal(inventory.takePending().length, MAX_UNKNOWN_CALLERS + 1, 'a restored unknown caller beyond the bound is dropped')
})

t.test('request metrics are counted apart and handed to prom-client when read, nothing lost, memory bounded', async t => {
  const metrics = new ProxyMetrics({ tokens: { status: () => [] }, defaultMetrics: false })
  const call = (status: number, upstreamSeconds: number | undefined): void => {
    metrics.request({ campaign: 'default', integration: 'crm', soapMethod: 'xtk:session#GetOption', authPath: 'session', status, fault: undefined, totalSeconds: 0.004, upstreamSeconds })
  }
  const calls = MAX_PENDING_OBSERVATIONS * 2 + 10
  for (let i = 0; i < calls; i++) call(200, 0.003)
  call(502, undefined)
  t.ok(metrics.pendingObservations < MAX_PENDING_OBSERVATIONS, `at most ${MAX_PENDING_OBSERVATIONS} durations wait unread (${metrics.pendingObservations})`)
  const text = await metrics.text()
  t.equal(metrics.pendingObservations, 0, 'reading the metrics hands everything on')
  t.match(text, `campaign_ims_proxy_requests_total{campaign="default",integration="crm",soap_method="xtk:session#GetOption",auth_path="session",status="200",fault=""} ${calls}`, 'every call counted')
  t.match(text, 'status="502",fault=""} 1', 'the unanswered one too')
  t.match(text, `campaign_ims_proxy_upstream_duration_seconds_count{campaign="default",integration="crm"} ${calls}`, 'every upstream duration observed')
  t.match(text, `campaign_ims_proxy_upstream_duration_seconds_bucket{le="0.005",campaign="default",integration="crm"} ${calls}`, 'in its bucket')
  t.match(text, `campaign_ims_proxy_added_duration_seconds_count{integration="crm"} ${calls}`, 'every added duration observed')
  t.match(text, `campaign_ims_proxy_added_duration_seconds_bucket{le="0.001",integration="crm"} ${calls}`, 'in its bucket (total minus upstream)')
  call(200, 0.003)
  t.match(await metrics.text(), `status="200",fault=""} ${calls + 1}`, 'a later call is added to the same series')
})

t.test('a body trickled a few bytes per read is held in few objects, every byte in order', async t => {
  const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, i) => 65 + (i % 26)))
  const into = gathered()
  // One byte per read, then a large read, then small ones again.
  const reads = [...Array.from({ length: 5000 }, (_, i) => bytes.subarray(i, i + 1)), bytes.subarray(5000, 5000 + SMALL_CHUNK_BYTES), ...Array.from({ length: 10_000 - 5000 - SMALL_CHUNK_BYTES }, (_, i) => bytes.subarray(5000 + SMALL_CHUNK_BYTES + i, 5000 + SMALL_CHUNK_BYTES + i + 1))]
  t.equal(await readUpTo(Readable.from(reads)[Symbol.asyncIterator]() as AsyncIterator<Buffer>, 1_000_000, into), true, 'read to its end')
  t.same(joined(into), bytes, 'every byte, in order')
  t.equal(into.size, bytes.length, 'its size')
  t.ok(into.chunks.length < 200, `held in ${into.chunks.length} chunks, not ${reads.length}`)
  t.ok(into.chunks.includes(reads[5000] as Buffer), 'a large read is kept as it came')
  const direct = gathered()
  for (let i = 0; i < MAX_SMALL_CHUNKS - 1; i++) gather(direct, Buffer.from('x'))
  t.equal(direct.chunks.length, MAX_SMALL_CHUNKS - 1, 'fewer small chunks than the bound: kept as they came')
  gather(direct, Buffer.from('y'))
  t.same(direct.chunks.map(String), [`${'x'.repeat(MAX_SMALL_CHUNKS - 1)}y`], 'at the bound: joined into one')
})
