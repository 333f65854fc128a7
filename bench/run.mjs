// `npm run bench [-- --quick]`: the performance targets of SPEC section 8,
// measured as ratios against a bare @fastify/http-proxy pass-through in the
// same run. Every process under test is a child process, so its CPU time
// (/proc/<pid>/stat) and RSS (/proc/<pid>/status) are its own; the load
// comes from autocannon in this process. Writes docs/benchmarks.md and
// docs/benchmarks-body-size.svg.
import { execFileSync, fork, spawn } from 'node:child_process'
import { once } from 'node:events'
import { cpus } from 'node:os'
import { mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { hashPassword } from '../dist/auth/passwords.js'
import { ImsSimulator } from '../dist/sim/ims.js'
import { renderChart } from './chart.mjs'

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } })
const QUICK = values.quick
const RUNS = QUICK ? 1 : 3
const SMALL_SECONDS = QUICK ? 4 : 10
const SIZES = QUICK ? [1024, 100 * 1024, 10 * 1024 ** 2] : [1024, 10 * 1024, 100 * 1024, 1024 ** 2, 10 * 1024 ** 2, 100 * 1024 ** 2]
const UPLOADS = QUICK ? [200 * 1024 ** 2] : [200 * 1024 ** 2, 1024 ** 3]
const ROOT = new URL('../', import.meta.url).pathname
const PASSWORD = 'bench-etl-password'
const started = Date.now()
const log = (...args) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s]`, ...args)

// ---------------------------------------------------------------- processes

const children = []
process.on('exit', () => { for (const child of children) child.kill('SIGKILL') })

async function freePort () {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  server.close()
  await once(server, 'close')
  return port
}

/** Forks a script that sends { port } once listening. */
async function forkListening (script, args = [], options = {}) {
  const child = fork(script, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], ...options })
  children.push(child)
  const [message] = await once(child, 'message')
  return { child, url: `http://127.0.0.1:${message.port}` }
}

async function until (condition, what, attempts = 400) {
  for (let i = 0; i < attempts; i++) {
    if (await condition()) return
    await new Promise(resolve => setTimeout(resolve, 25))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** The proxy (dist/cli.js serve) with logging at info to a file and metrics on. */
async function startProxy (upstreamUrl, ims, dir, name) {
  const [port, adminPort] = [await freePort(), await freePort()]
  const config = join(dir, `${name}.yaml`)
  writeFileSync(config, `
listen: { host: 127.0.0.1, port: ${port} }
admin: { host: 127.0.0.1, port: ${adminPort} }
campaign: { url: '${upstreamUrl}', maxConnections: 64 }
ims: { tokenUrl: '${ims.tokenUrl}' }
technicalAccounts:
  marketing: { clientId: bench-client, clientSecret: bench-secret, scopes: [AdobeID, openid, campaign_sdk] }
sessions: { secret: bench-session-secret-0123456789abcdefghij }
integrations:
  - { name: nightly-etl, login: etl_operator, passwordHash: '${await hashPassword(PASSWORD)}', technicalAccount: marketing }
logging: { level: info }
`)
  const logFile = openSync(join(dir, `${name}.log`), 'w')
  const child = fork(join(ROOT, 'dist/cli.js'), ['serve', '--config', config], { stdio: ['ignore', logFile, 'inherit', 'ipc'] })
  children.push(child)
  const url = `http://127.0.0.1:${port}`
  await until(async () => await fetch(`${url}/`).then(() => true, () => false), `${name} to listen`)
  return { child, url, adminUrl: `http://127.0.0.1:${adminPort}`, logFile: join(dir, `${name}.log`) }
}

/** CPU time (ms) of a process and its children (nginx's workers are children of its master). */
function cpuMs (pid) {
  let total = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let fields
    try {
      fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ')
    } catch {
      continue
    }
    if (Number(entry) === pid || Number(fields[1]) === pid) total += (Number(fields[11]) + Number(fields[12])) * 10
  }
  return total
}

function rssBytes (pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024
}

// ---------------------------------------------------------------- requests

const envelope = (token, padding) => `<?xml version='1.0' encoding='UTF-8'?><SOAP-ENV:Envelope xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/'><SOAP-ENV:Body><m:PushEvent xmlns:m='urn:nms:rtEvent' SOAP-ENV:encodingStyle='http://schemas.xmlsoap.org/soap/encoding/'><sessiontoken xsi:type='xsd:string'>${token}</sessiontoken><domEvent xsi:type='ns:Element' SOAP-ENV:encodingStyle='http://xml.apache.org/xml-soap/literalxml'><rtEvent type='order' email='ann@example.com' origin='bench'><ctx>${'x'.repeat(padding)}</ctx></rtEvent></domEvent></m:PushEvent></SOAP-ENV:Body></SOAP-ENV:Envelope>`
/** A PushEvent of exactly `size` bytes. */
const bodyOfSize = (token, size) => envelope(token, Math.max(0, size - Buffer.byteLength(envelope(token, 0))))
const HEADERS = { 'content-type': 'text/xml; charset=utf-8', soapaction: 'nms:rtEvent#PushEvent' }

async function logon (proxyUrl) {
  const body = `<SOAP-ENV:Envelope xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/' xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'><SOAP-ENV:Body><m:Logon xmlns:m='urn:xtk:session'><sessiontoken xsi:type='xsd:string'/><strLogin xsi:type='xsd:string'>etl_operator</strLogin><strPassword xsi:type='xsd:string'>${PASSWORD}</strPassword><elemParameters/></m:Logon></SOAP-ENV:Body></SOAP-ENV:Envelope>`
  const text = await fetch(`${proxyUrl}/nl/jsp/soaprouter.jsp`, { method: 'POST', headers: { 'content-type': 'text/xml', soapaction: 'xtk:session#Logon' }, body }).then(r => r.text())
  return /<pstrSessionToken[^>]*>([^<]+)</.exec(text)?.[1]
}

/** autocannon against the SOAP router; CPU of `pid` over the run. */
async function load ({ url, body, connections, duration, amount, pid }) {
  const before = pid === undefined ? 0 : cpuMs(pid)
  const result = await autocannon({ url: `${url}/nl/jsp/soaprouter.jsp`, method: 'POST', headers: HEADERS, body, connections, ...(amount === undefined ? { duration } : { amount }), timeout: 120 })
  const cpu = pid === undefined ? 0 : cpuMs(pid) - before
  const total = result.requests.total
  if (result.errors > 0 || result.non2xx > 0) throw new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx answers`)
  return { rps: total / result.duration, p99: result.latency.p99, p50: result.latency.p50, mbps: (total * Buffer.byteLength(body)) / 1024 ** 2 / result.duration, cpuUsPerReq: total === 0 ? 0 : (cpu * 1000) / total, total }
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 }

/** Streams `size` bytes (a PushEvent head, then filler) without holding them; returns the target's peak RSS growth. */
async function upload (url, pid, size, token) {
  const [head, rest] = envelope(token, 0).split('</ctx>')
  const tail = `</ctx>${rest}`
  const fill = size - Buffer.byteLength(head) - Buffer.byteLength(tail)
  const chunk = Buffer.alloc(64 * 1024, 'y')
  async function * generate () {
    yield Buffer.from(head)
    for (let sent = 0; sent < fill; sent += chunk.length) yield sent + chunk.length <= fill ? chunk : chunk.subarray(0, fill - sent)
    yield Buffer.from(tail)
  }
  const before = rssBytes(pid)
  let peak = before
  const sampler = setInterval(() => { peak = Math.max(peak, rssBytes(pid)) }, 20)
  const t0 = Date.now()
  const status = await new Promise((resolve, reject) => {
    const req = request(`${url}/nl/jsp/soaprouter.jsp`, { method: 'POST', agent: false, headers: { ...HEADERS, 'content-length': String(size) } }, res => { res.resume(); res.on('end', () => resolve(res.statusCode)) })
    req.on('error', reject)
    Readable.from(generate()).pipe(req)
  })
  clearInterval(sampler)
  if (status !== 200) throw new Error(`upload of ${size} bytes answered ${status}`)
  return { growthMB: (peak - before) / 1024 ** 2, seconds: (Date.now() - t0) / 1000 }
}

// ---------------------------------------------------------------- the run

const dir = mkdtempSync(join(tmpdir(), 'bench-'))
const ims = await ImsSimulator.start({ clients: [{ clientId: 'bench-client', secrets: ['bench-secret'], scopes: ['AdobeID', 'openid', 'campaign_sdk'] }] })
const tokenRequests = () => ims.tokenRequests('bench-client')
const upstream = await forkListening(join(ROOT, 'bench/upstream.mjs'))
const token = await fetch(ims.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=bench-client&client_secret=bench-secret&scope=AdobeID,openid,campaign_sdk' }).then(r => r.json()).then(j => j.access_token)
const baseline = await forkListening(join(ROOT, 'bench/baseline.mjs'), [upstream.url, token])
const proxy = await startProxy(upstream.url, ims, dir, 'proxy')
await until(async () => (await fetch(`${proxy.adminUrl}/readyz`)).status === 200, 'the proxy to be ready')
const session = await logon(proxy.url)
if (session === undefined) throw new Error('the benchmark Logon failed')
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${execFileSync('uname', ['-sr']).toString().trim()}`
log(`machine: ${machine}; mode: ${QUICK ? 'quick' : 'full'}`)

let nginx
try {
  execFileSync('nginx', ['-v'], { stdio: 'ignore' })
  const port = await freePort()
  const conf = join(dir, 'nginx.conf')
  writeFileSync(conf, `daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/nginx-error.log;
events { worker_connections 1024; }
http { access_log off; client_max_body_size 0; proxy_request_buffering off; proxy_http_version 1.1;
  upstream campaign { server ${new URL(upstream.url).host}; keepalive 64; }
  server { listen 127.0.0.1:${port}; location / { proxy_pass http://campaign; proxy_set_header Connection ""; proxy_set_header Authorization "Bearer ${token}"; } } }`)
  const child = spawn('nginx', ['-c', conf], { stdio: 'ignore' })
  children.push(child)
  nginx = { child, url: `http://127.0.0.1:${port}` }
  await until(async () => await fetch(`${nginx.url}/`).then(() => true, () => false), 'nginx')
} catch {
  log('nginx is not installed (apt-get install nginx): the nginx reference is skipped')
}

// 1. Small SOAP call (about 2 KB) at 50 connections.
const small = {}
const paths = [
  ['direct', upstream.url, upstream.child.pid, bodyOfSize('', 2048)],
  ['baseline', baseline.url, baseline.child.pid, bodyOfSize('', 2048)],
  ['proxy (session token)', proxy.url, proxy.child.pid, bodyOfSize(session, 2048)],
  ['proxy (inline login/password)', proxy.url, proxy.child.pid, bodyOfSize(`etl_operator/${PASSWORD}`, 2048)],
  ...(nginx === undefined ? [] : [['nginx', nginx.url, nginx.child.pid, bodyOfSize('', 2048)]]),
]
for (const [, url, pid, body] of paths) await load({ url, body, connections: 50, duration: 2, pid }) // warm-up (JIT, pools)
const tokensBeforeWarm = tokenRequests()
for (let run = 0; run < RUNS; run++) {
  for (const [name, url, pid, body] of paths) {
    const result = await load({ url, body, connections: 50, duration: SMALL_SECONDS, pid })
    ;(small[name] ??= []).push(result)
    log(`small call, ${name}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99} ms, ${result.cpuUsPerReq.toFixed(0)} µs CPU/req`)
  }
}
const warmTokenRequests = tokenRequests() - tokensBeforeWarm
const smallMedian = Object.fromEntries(Object.entries(small).map(([name, rs]) => [name, { rps: median(rs.map(r => r.rps)), p99: median(rs.map(r => r.p99)), p50: median(rs.map(r => r.p50)), cpu: median(rs.map(r => r.cpuUsPerReq)) }]))

// 2. Body-size sweep.
const sweep = []
for (const size of SIZES) {
  const row = { size }
  for (const [name, url, pid, token] of [['baseline', baseline.url, baseline.child.pid, ''], ['proxy', proxy.url, proxy.child.pid, session]]) {
    const body = bodyOfSize(token, size)
    const connections = size >= 10 * 1024 ** 2 ? 2 : size >= 1024 ** 2 ? 4 : 16
    const runs = []
    for (let run = 0; run < RUNS; run++) {
      runs.push(await load(size >= 1024 ** 2 ? { url, body, connections, amount: size >= 100 * 1024 ** 2 ? 6 : size >= 10 * 1024 ** 2 ? 20 : 100, pid } : { url, body, connections, duration: QUICK ? 2 : 3, pid }))
    }
    row[name] = { mbps: median(runs.map(r => r.mbps)), cpu: median(runs.map(r => r.cpuUsPerReq)) }
  }
  sweep.push(row)
  log(`body ${formatSize(size)}: baseline ${row.baseline.mbps.toFixed(1)} MB/s ${row.baseline.cpu.toFixed(0)} µs/req, proxy ${row.proxy.mbps.toFixed(1)} MB/s ${row.proxy.cpu.toFixed(0)} µs/req`)
}

// 3. Large uploads: peak RSS growth.
const uploads = []
for (const size of UPLOADS) {
  const bs = []
  const ps = []
  for (let run = 0; run < RUNS; run++) {
    bs.push(await upload(baseline.url, baseline.child.pid, size, ''))
    ps.push(await upload(proxy.url, proxy.child.pid, size, session))
  }
  const med = (xs) => ({ growthMB: median(xs.map(x => x.growthMB)), seconds: median(xs.map(x => x.seconds)) })
  const b = med(bs)
  const p = med(ps)
  uploads.push({ size, baseline: b, proxy: p })
  log(`upload ${formatSize(size)}: RSS growth baseline ${b.growthMB.toFixed(1)} MB (${b.seconds.toFixed(1)} s), proxy ${p.growthMB.toFixed(1)} MB (${p.seconds.toFixed(1)} s)`)
}

// 4. Cold start: 1,000 concurrent first requests on a fresh proxy whose first token request is slow.
ims.faults.inject({ kind: 'latency', ms: 1000 }, { times: 1 })
const tokensBeforeCold = tokenRequests()
const cold = await startProxy(upstream.url, ims, dir, 'cold')
const coldBody = bodyOfSize(`etl_operator/${PASSWORD}`, 2048)
// 1,000 requests issued at once over 250 connections (more simultaneous connects than the listen backlog would be refused by the kernel, not by the proxy).
const coldAgent = new Agent({ keepAlive: true, maxSockets: 250 })
const coldStatuses = await Promise.all(Array.from({ length: 1000 }, () => new Promise(resolve => {
  const req = request(`${cold.url}/nl/jsp/soaprouter.jsp`, { method: 'POST', agent: coldAgent, headers: { ...HEADERS, 'content-length': Buffer.byteLength(coldBody) } }, res => { res.resume(); res.on('end', () => resolve(res.statusCode)) })
  req.on('error', () => resolve(0))
  req.end(coldBody)
})))
const coldTokenRequests = tokenRequests() - tokensBeforeCold
coldAgent.destroy()
const coldOk = coldStatuses.filter(s => s === 200).length
const coldOthers = Object.entries(coldStatuses.reduce((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {})).filter(([s]) => s !== '200').map(([s, n]) => `${n} × ${s === '0' ? 'connection error' : s}`).join(', ')
log(`cold start: ${coldOk}/1000 answered 200${coldOthers === '' ? '' : ` (${coldOthers})`}, ${coldTokenRequests} token request(s)`)

// ---------------------------------------------------------------- report

for (const child of children) child.kill('SIGTERM')
await ims.close()

function formatSize (bytes) {
  return bytes >= 1024 ** 3 ? `${bytes / 1024 ** 3} GiB` : bytes >= 1024 ** 2 ? `${bytes / 1024 ** 2} MiB` : `${bytes / 1024} KiB`
}
const ratio = (a, b) => (b === 0 ? 0 : a / b)
const base = smallMedian.baseline
const sessionPath = smallMedian['proxy (session token)']
const inlinePath = smallMedian['proxy (inline login/password)']
const at10MB = sweep.find(r => r.size === 10 * 1024 ** 2)
const at100MB = sweep.find(r => r.size === 100 * 1024 ** 2)
const up200 = uploads.find(u => u.size === 200 * 1024 ** 2)
const up1G = uploads.find(u => u.size === 1024 ** 3)
const targets = [
  ['small call throughput ≥ 1.2 × baseline', `${ratio(sessionPath.rps, base.rps).toFixed(2)} ×`, ratio(sessionPath.rps, base.rps) >= 1.2],
  ['small call p99 ≤ 1.0 × baseline', `${ratio(sessionPath.p99, base.p99).toFixed(2)} ×`, sessionPath.p99 <= base.p99],
  ...(smallMedian.nginx === undefined ? [['small call ≥ 0.5 × nginx (stretch)', 'nginx not installed', undefined]] : [['small call ≥ 0.5 × nginx (stretch)', `${ratio(sessionPath.rps, smallMedian.nginx.rps).toFixed(2)} ×`, ratio(sessionPath.rps, smallMedian.nginx.rps) >= 0.5]]),
  ['10 MB throughput ≥ 0.9 × baseline', at10MB === undefined ? 'not measured' : `${ratio(at10MB.proxy.mbps, at10MB.baseline.mbps).toFixed(2)} ×`, at10MB === undefined ? undefined : ratio(at10MB.proxy.mbps, at10MB.baseline.mbps) >= 0.9],
  ['200 MB upload: RSS growth within 16 MB of baseline', up200 === undefined ? 'not measured' : `${(up200.proxy.growthMB - up200.baseline.growthMB).toFixed(1)} MB more`, up200 === undefined ? undefined : up200.proxy.growthMB - up200.baseline.growthMB <= 16],
  ['1 GB upload grows RSS no more than 200 MB', up1G === undefined ? 'not measured (--quick)' : `${up1G.proxy.growthMB.toFixed(1)} vs ${up200.proxy.growthMB.toFixed(1)} MB`, up1G === undefined ? undefined : up1G.proxy.growthMB <= up200.proxy.growthMB + 8],
  ['cold start: 1 token request per account', `${coldTokenRequests} (${coldOk}/1000 answered 200)`, coldTokenRequests === 1 && coldOk === 1000],
  ['warm: 0 token requests on the request path', String(warmTokenRequests), warmTokenRequests === 0],
  ['inline login/password ≥ 0.8 × session path', `${ratio(inlinePath.rps, sessionPath.rps).toFixed(2)} ×`, ratio(inlinePath.rps, sessionPath.rps) >= 0.8],
  ['CPU per request at 100 MB within 1.5 × baseline', at100MB === undefined ? 'not measured (--quick)' : `${ratio(at100MB.proxy.cpu, at100MB.baseline.cpu).toFixed(2)} ×`, at100MB === undefined ? undefined : ratio(at100MB.proxy.cpu, at100MB.baseline.cpu) <= 1.5],
]
const verdict = (ok) => ok === undefined ? '—' : ok ? 'PASS' : 'MISS'
const table = (header, rows) => [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map(r => `| ${r.join(' | ')} |`)].join('\n')
const generated = `## Results (${QUICK ? 'quick mode: one run, fewer sizes' : `median of ${RUNS} runs`})

Measured ${new Date().toISOString().slice(0, 10)} on ${machine}, with \`npm run bench${QUICK ? ' -- --quick' : ''}\` (${((Date.now() - started) / 1000).toFixed(0)} s).

### Small SOAP call (2 KiB PushEvent, 50 connections, ${SMALL_SECONDS} s per run)

${table(['path', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req (that process)', 'throughput vs baseline'], Object.entries(smallMedian).map(([name, m]) => [name, m.rps.toFixed(0), String(m.p50), String(m.p99), name === 'direct' ? `${m.cpu.toFixed(0)} (upstream)` : m.cpu.toFixed(0), `${ratio(m.rps, base.rps).toFixed(2)} ×`]))}

### Body-size sweep (session-token path)

${table(['body', 'baseline MB/s', 'proxy MB/s', 'ratio', 'baseline CPU µs/req', 'proxy CPU µs/req', 'CPU ratio'], sweep.map(r => [formatSize(r.size), r.baseline.mbps.toFixed(1), r.proxy.mbps.toFixed(1), `${ratio(r.proxy.mbps, r.baseline.mbps).toFixed(2)} ×`, r.baseline.cpu.toFixed(0), r.proxy.cpu.toFixed(0), `${ratio(r.proxy.cpu, r.baseline.cpu).toFixed(2)} ×`]))}

![Throughput and proxy CPU per request against body size](benchmarks-body-size.svg)

### Large uploads (peak RSS growth of the process during one streamed upload)

${table(['upload', 'baseline', 'proxy', 'proxy − baseline'], uploads.map(u => [formatSize(u.size), `${u.baseline.growthMB.toFixed(1)} MB`, `${u.proxy.growthMB.toFixed(1)} MB`, `${(u.proxy.growthMB - u.baseline.growthMB).toFixed(1)} MB`]))}

### Targets

${table(['target', 'measured', 'result'], targets.map(([name, measured, ok]) => [name, measured, verdict(ok)]))}
`
const docPath = join(ROOT, 'docs/benchmarks.md')
const existing = (() => { try { return readFileSync(docPath, 'utf8') } catch { return '' } })()
const marker = '<!-- generated by npm run bench: everything below is replaced -->'
const intro = existing.includes(marker) ? existing.slice(0, existing.indexOf(marker)) : '# Benchmarks\n\n'
writeFileSync(docPath, `${intro}${marker}\n\n${generated}`)
writeFileSync(join(ROOT, 'docs/benchmarks-body-size.svg'), await renderChart(sweep.map(r => ({ size: r.size, label: formatSize(r.size), ...r }))))
console.log(`\n${generated}`)
log('wrote docs/benchmarks.md and docs/benchmarks-body-size.svg')
process.exit(0)
