// `npm run soak [-- --seconds N]`: a bounded soak run. Several simulated
// integrations send mixed traffic through the proxy (a child process, so
// its memory is measured alone) while IMS and Campaign flap. At the end it
// reports requests sent, answered by Campaign, answered with a proxy fault
// (by code), lost (no HTTP answer at all: must be 0), token requests, and
// the proxy's RSS; it exits 1 when a request was lost or RSS grew beyond
// the bound. Uses the built code (dist/).
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { hashPassword } from '../dist/auth/passwords.js'
import { CampaignSimulator } from '../dist/sim/campaign.js'
import { rateLimited } from '../dist/sim/faults.js'
import { ImsSimulator } from '../dist/sim/ims.js'
import { freePort } from '../bench/processes.mjs'

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '120' }, concurrency: { type: 'string', default: '16' }, 'rss-bound-mb': { type: 'string', default: '32' }, 'heap-mb': { type: 'string', default: '256' } } })
const SECONDS = Number(values.seconds)
const CONCURRENCY = Number(values.concurrency)
/**
 * RSS growth allowed over the second half of the run. The first half is
 * warm-up: V8 sizes its heap to the load (measured here: RSS rises from
 * about 110 MB to a plateau near 300 MB within 40 % of the run, heap used
 * staying under 100 MB), so only growth after it points to a leak.
 */
const RSS_BOUND_MB = Number(values['rss-bound-mb'])
const PASSWORD = 'soak-etl-password'
const MC_PASSWORD = 'mc-password'

const ims = await ImsSimulator.start({ clients: [{ clientId: 'soak-marketing', secrets: ['soak-secret'], scopes: ['AdobeID', 'openid', 'campaign_sdk'] }, { clientId: 'soak-events', secrets: ['soak-events-secret'], scopes: ['AdobeID', 'openid', 'campaign_sdk'] }] })
const campaign = await CampaignSimulator.start({ authority: ims.authority, imsMandatory: false, allowUserPassword: true, recordLimit: 100 })
const proxyPort = await freePort()
const adminPort = await freePort()
const dir = mkdtempSync(join(tmpdir(), 'soak-'))
const configFile = join(dir, 'proxy.yaml')
writeFileSync(configFile, `
listen: { host: 127.0.0.1, port: ${proxyPort} }
admin: { host: 127.0.0.1, port: ${adminPort} }
campaign: { url: '${campaign.url}', timeoutSeconds: 5 }
ims: { tokenUrl: '${ims.tokenUrl}', timeoutSeconds: 2, backoff: { initialSeconds: 0.5, maxSeconds: 4 } }
technicalAccounts:
  marketing: { clientId: soak-marketing, clientSecret: soak-secret, scopes: [AdobeID, openid, campaign_sdk] }
  events: { clientId: soak-events, clientSecret: soak-events-secret, scopes: [AdobeID, openid, campaign_sdk] }
sessions: { secret: soak-session-secret-0123456789abcdefghij }
integrations:
  - { name: nightly-etl, login: etl_operator, passwordHash: '${await hashPassword(PASSWORD, { N: 1024 })}', technicalAccount: marketing }
  - { name: message-center, login: mc, passwordHash: '${await hashPassword(MC_PASSWORD, { N: 1024 })}', technicalAccount: events }
  - { name: website, networks: [127.0.0.2/32], technicalAccount: events }
  - { name: crm-sync, mode: passthrough, login: crm_operator }
limits: { replayLimitBytes: 1MiB }
logging: { level: warn }
`)

// The proxy's old-space limit, as Node derives it from a container's memory limit (about half of 512 MiB);
// without a limit V8 keeps growing its heap on a machine with free memory, which says nothing about leaks.
const HEAP_MB = Number(values['heap-mb'])
const proxy = fork(new URL('../dist/cli.js', import.meta.url).pathname, ['serve', '--config', configFile], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: HEAP_MB > 0 ? [`--max-old-space-size=${HEAP_MB}`] : [] })
const proxyUrl = `http://127.0.0.1:${proxyPort}`
const adminUrl = `http://127.0.0.1:${adminPort}`
let ready = false
for (let i = 0; i < 200 && !ready; i++) {
  await new Promise(resolve => setTimeout(resolve, 50))
  ready = await fetch(new URL('/readyz', adminUrl)).then(r => r.status === 200, () => false)
}
if (!ready) {
  console.error('soak: the proxy did not become ready')
  proxy.kill()
  process.exit(2)
}
const router = new URL('/nl/jsp/soaprouter.jsp', proxyUrl)

const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${proxy.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024
const envelope = (schema, method, token, params = '') => `<?xml version='1.0' encoding='UTF-8'?><SOAP-ENV:Envelope xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/'><SOAP-ENV:Body><m:${method} xmlns:m='urn:${schema}' SOAP-ENV:encodingStyle='http://schemas.xmlsoap.org/soap/encoding/'><sessiontoken xsi:type='xsd:string'>${token}</sessiontoken>${params}</m:${method}></SOAP-ENV:Body></SOAP-ENV:Envelope>`
const logon = (login, password) => envelope('xtk:session', 'Logon', '', `<strLogin xsi:type='xsd:string'>${login}</strLogin><strPassword xsi:type='xsd:string'>${password}</strPassword><elemParameters xsi:type='ns:Element' SOAP-ENV:encodingStyle='http://xml.apache.org/xml-soap/literalxml'/>`)
const getOption = token => envelope('xtk:session', 'GetOption', token, "<strName xsi:type='xsd:string'>XtkDatabaseId</strName>")
const pushEvent = (token, padding = 0) => envelope('nms:rtEvent', 'PushEvent', token, `<domEvent xsi:type='ns:Element' SOAP-ENV:encodingStyle='http://xml.apache.org/xml-soap/literalxml'><rtEvent type='soak' email='soak@example.com'><ctx>${'x'.repeat(padding)}</ctx></rtEvent></domEvent>`)

const stats = { sent: 0, campaign: new Map(), proxyFaults: new Map(), lost: 0, lostReasons: new Map() }
const bump = (map, key) => map.set(key, (map.get(key) ?? 0) + 1)

/** One request; classifies the answer. Never throws. */
function send (body, { from = '127.0.0.1', path = router, method = 'POST' } = {}) {
  stats.sent++
  return new Promise(resolve => {
    const req = request(path, { method, localAddress: from, agent: false, timeout: 30_000, headers: method === 'POST' ? { 'content-type': 'text/xml; charset=utf-8', 'content-length': Buffer.byteLength(body) } : {} }, res => {
      const chunks = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        const proxyFault = /<faultstring[^>]*>((?:PRX|XSV)-\d{6})[^<]*<\/faultstring>\s*<detail[^>]*>[^<]*request id/.exec(text)
        if (proxyFault !== null) bump(stats.proxyFaults, `${res.statusCode} ${proxyFault[1]}`)
        else bump(stats.campaign, String(res.statusCode))
        resolve({ status: res.statusCode, text, proxyFault: proxyFault?.[1] })
      })
      res.on('error', err => { stats.lost++; bump(stats.lostReasons, err.code ?? err.message); resolve({ status: 0, text: '' }) })
    })
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')))
    req.on('error', err => { stats.lost++; bump(stats.lostReasons, err.code ?? err.message); resolve({ status: 0, text: '' }) })
    req.end(method === 'POST' ? body : undefined)
  })
}

const tag = (text, name) => new RegExp(`<${name}[^>]*>([^<]*)</${name}>`).exec(text)?.[1]

/** The scenarios of the simulated integrations. */
const scenarios = [
  // nightly-etl: Logon, a few calls with the proxy session, sometimes a large (streamed) call, Logoff.
  async () => {
    const answer = await send(logon('etl_operator', PASSWORD))
    const session = tag(answer.text, 'pstrSessionToken')
    if (session === undefined) return
    for (let i = 0; i < 3; i++) await send(getOption(session))
    if (Math.random() < 0.05) await send(pushEvent(session, 2 * 1024 * 1024))
    await send(envelope('xtk:session', 'Logoff', session))
  },
  // message-center: inline login/password, as Message Center agents do.
  async () => { for (let i = 0; i < 5; i++) await send(pushEvent(`mc/${MC_PASSWORD}`, 200)) },
  // website: identified by its network.
  async () => { for (let i = 0; i < 5; i++) await send(pushEvent('', 1500), { from: '127.0.0.2' }) },
  // crm-sync, not migrated: native Logon through the proxy, calls with Campaign's session.
  async () => {
    const answer = await send(logon('crm_operator', 'crm-password'), { from: '127.0.0.3' })
    const session = tag(answer.text, 'pstrSessionToken')
    if (session !== undefined) await send(getOption(session), { from: '127.0.0.3' })
  },
  // An unknown caller and an anonymous page.
  async () => { await send('', { method: 'GET', path: new URL('/r/test', proxyUrl), from: '127.0.0.4' }) },
]

// IMS and Campaign flap on a schedule.
const flaps = new Map()
const flap = (name, arm, clear, ms) => { bump(flaps, name); arm(); return new Promise(resolve => setTimeout(() => { clear(); resolve() }, ms)) }
const schedule = [
  () => flap('Campaign rejects the token (401) x3', () => campaign.faults.inject({ kind: 'status', status: 401, body: 'token expired' }, { times: 3 }), () => {}, 2000),
  () => flap('IMS 503 for 3 s', () => ims.faults.always({ kind: 'status', status: 503 }), () => ims.faults.clear(), 3000),
  () => flap('Campaign resets x5', () => campaign.faults.inject({ kind: 'reset' }, { times: 5 }), () => {}, 2000),
  () => flap('IMS 429 (Retry-After 1) x3', () => ims.faults.inject(rateLimited(1), { times: 3 }), () => {}, 2000),
  () => flap('Campaign 300 ms latency for 3 s', () => campaign.faults.always({ kind: 'latency', ms: 300 }), () => campaign.faults.clear(), 3000),
  () => flap('IMS refuses connections for 3 s', () => ims.refuseConnections(true), () => ims.refuseConnections(false), 3000),
  () => flap('Campaign 503 x5', () => campaign.faults.inject({ kind: 'status', status: 503, body: 'busy' }, { times: 5 }), () => {}, 2000),
]

const started = Date.now()
const deadline = started + SECONDS * 1000
const warmupEnd = started + SECONDS * 500
let rssAfterWarmup
let peakRss = 0
const rssStart = rss()
/** RSS at each tenth of the run, to tell a plateau from a leak. */
const rssCurve = []
let nextTenth = started + SECONDS * 100
const sampler = setInterval(() => {
  const now = rss()
  peakRss = Math.max(peakRss, now)
  if (rssAfterWarmup === undefined && Date.now() >= warmupEnd) rssAfterWarmup = now
  if (Date.now() >= nextTenth) {
    rssCurve.push(now)
    nextTenth += SECONDS * 100
  }
}, 250)

const flapper = (async () => {
  let i = 0
  while (Date.now() + 5000 < deadline) {
    await new Promise(resolve => setTimeout(resolve, 1000))
    await schedule[i++ % schedule.length]()
  }
})()
await Promise.all(Array.from({ length: CONCURRENCY }, async (_, w) => {
  let n = w
  while (Date.now() < deadline) await scenarios[n++ % scenarios.length]()
}))
await flapper
clearInterval(sampler)
const rssEnd = rss()

// Let the last flap's effects settle (a token fetched again after a rejection) before reading readiness.
await new Promise(resolve => setTimeout(resolve, 2000))
const readyz = await fetch(new URL('/readyz', adminUrl)).then(r => r.status)
const metrics = await fetch(new URL('/metrics', adminUrl)).then(r => r.text())
const metric = (name, labels) => metrics.split('\n').filter(l => l.startsWith(name) && l.includes(labels)).reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0)
proxy.kill('SIGTERM')
await once(proxy, 'exit')
await Promise.all([ims.close(), campaign.close()])

const mb = bytes => (bytes / 1024 / 1024).toFixed(1)
const answeredByCampaign = [...stats.campaign.values()].reduce((a, b) => a + b, 0)
const answeredByProxy = [...stats.proxyFaults.values()].reduce((a, b) => a + b, 0)
const growth = rssEnd - (rssAfterWarmup ?? rssStart)
const report = [
  `soak: ${SECONDS} s, ${CONCURRENCY} concurrent clients, Node ${process.version}, proxy --max-old-space-size=${HEAP_MB || 'default'}`,
  `requests sent:               ${stats.sent}`,
  `answered by Campaign:        ${answeredByCampaign}  (by status: ${[...stats.campaign].map(([k, v]) => `${k}: ${v}`).join(', ')})`,
  `answered with a proxy fault: ${answeredByProxy}  (${[...stats.proxyFaults].map(([k, v]) => `${k}: ${v}`).join(', ') || 'none'})`,
  `lost (no HTTP answer):       ${stats.lost}${stats.lost > 0 ? `  (${[...stats.lostReasons].map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''}`,
  `token requests (IMS):        marketing ${ims.tokenRequests('soak-marketing')}, events ${ims.tokenRequests('soak-events')}`,
  `token invalidations/replays: ${metric('campaign_ims_proxy_token_invalidations_total', '')} / ${metric('campaign_ims_proxy_replays_total', 'result="replayed"')} replayed`,
  `flaps:                       ${[...flaps].map(([k, v]) => `${k} x${v}`).join('; ')}`,
  `proxy RSS:                   start ${mb(rssStart)} MB, at half time ${mb(rssAfterWarmup ?? rssStart)} MB, peak ${mb(peakRss)} MB, end ${mb(rssEnd)} MB (growth over the second half ${mb(growth)} MB, bound ${RSS_BOUND_MB} MB)`,
  `proxy RSS each tenth (MB):   ${rssCurve.map(mb).join(' ')}`,
  `proxy memory at the end:     heap used ${mb(metric('campaign_ims_proxy_nodejs_heap_size_used_bytes', ''))} MB, heap total ${mb(metric('campaign_ims_proxy_nodejs_heap_size_total_bytes', ''))} MB, external ${mb(metric('campaign_ims_proxy_nodejs_external_memory_bytes', ''))} MB`,
  `readiness at the end:        ${readyz}`,
]
console.log(report.join('\n'))
const ok = stats.lost === 0 && growth <= RSS_BOUND_MB * 1024 * 1024 && stats.sent === answeredByCampaign + answeredByProxy
console.log(ok ? 'soak: PASS' : 'soak: FAIL')
process.exit(ok ? 0 : 1)
