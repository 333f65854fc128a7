// The requests of the benchmark: PushEvent bodies of a given size, the
// proxy Logon, autocannon load, streamed uploads with peak RSS, and the
// proxy's own count of how each call was identified.
import { request } from 'node:http'
import { Readable } from 'node:stream'
import autocannon from 'autocannon'
import { cpuMs, PASSWORD, rssBytes } from './processes.mjs'

const envelope = (token, padding) => `<?xml version='1.0' encoding='UTF-8'?><SOAP-ENV:Envelope xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/'><SOAP-ENV:Body><m:PushEvent xmlns:m='urn:nms:rtEvent' SOAP-ENV:encodingStyle='http://schemas.xmlsoap.org/soap/encoding/'><sessiontoken xsi:type='xsd:string'>${token}</sessiontoken><domEvent xsi:type='ns:Element' SOAP-ENV:encodingStyle='http://xml.apache.org/xml-soap/literalxml'><rtEvent type='order' email='ann@example.com' origin='bench'><ctx>${'x'.repeat(padding)}</ctx></rtEvent></domEvent></m:PushEvent></SOAP-ENV:Body></SOAP-ENV:Envelope>`
/** A PushEvent of exactly `size` bytes; an empty `token` is a call without credentials (the network path on the proxy). */
export const bodyOfSize = (token, size) => envelope(token, Math.max(0, size - Buffer.byteLength(envelope(token, 0))))
export const HEADERS = { 'content-type': 'text/xml; charset=utf-8', soapaction: 'nms:rtEvent#PushEvent' }
export const INLINE = `etl_operator/${PASSWORD}`

/** A proxy session token from xtk:session#Logon. */
export async function logon (proxyUrl) {
  const body = `<SOAP-ENV:Envelope xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/' xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'><SOAP-ENV:Body><m:Logon xmlns:m='urn:xtk:session'><sessiontoken xsi:type='xsd:string'/><strLogin xsi:type='xsd:string'>etl_operator</strLogin><strPassword xsi:type='xsd:string'>${PASSWORD}</strPassword><elemParameters/></m:Logon></SOAP-ENV:Body></SOAP-ENV:Envelope>`
  const text = await fetch(`${proxyUrl}/nl/jsp/soaprouter.jsp`, { method: 'POST', headers: { 'content-type': 'text/xml', soapaction: 'xtk:session#Logon' }, body }).then(r => r.text())
  const token = /<pstrSessionToken[^>]*>([^<]+)</.exec(text)?.[1]
  if (token === undefined) throw new Error(`the benchmark Logon failed: ${text.slice(0, 300)}`)
  return token
}

/**
 * autocannon against the SOAP router; CPU of `pid` over the run, per call
 * and as the share of one CPU it kept busy. `afterwards` runs after the
 * load and before the CPU is read (the proxy's metrics read: what the
 * proxy defers to a `/metrics` scrape is counted with the calls).
 */
export async function load ({ url, body, connections, duration, amount, pid, afterwards }) {
  const before = pid === undefined ? 0 : cpuMs(pid)
  const result = await autocannon({ url: `${url}/nl/jsp/soaprouter.jsp`, method: 'POST', headers: HEADERS, body, connections, ...(amount === undefined ? { duration } : { amount }), timeout: 120 })
  await afterwards?.()
  const cpu = pid === undefined ? 0 : cpuMs(pid) - before
  const total = result.requests.total
  if (result.errors > 0 || result.non2xx > 0) throw new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx answers`)
  return { rps: total / result.duration, p99: result.latency.p99, p50: result.latency.p50, mbps: (total * Buffer.byteLength(body)) / 1024 ** 2 / result.duration, cpuUsPerReq: total === 0 ? 0 : (cpu * 1000) / total, busy: cpu / 1000 / result.duration, total }
}

/**
 * `runs` loads of `sides` ([name, target, body]) at the same time, 25
 * connections each, so that every side meets the same machine at every
 * moment; which one starts first alternates from run to run (the first of
 * two simultaneous loads gets a few per cent more). `around` wraps each
 * run (a check of the proxy's metrics, whose read is each load's
 * `afterwards`). One object per run, by side name.
 */
export async function sideBySideRuns (sides, { runs, duration, around = (fn) => fn() }) {
  const results = []
  for (let run = 0; run < runs; run++) {
    const order = run % 2 === 0 ? sides : [...sides].reverse()
    const loads = await around((afterwards) => Promise.all(order.map(([, target, body]) => load({ url: target.url, body, connections: 25, duration, pid: target.child.pid, afterwards }))))
    results.push(Object.fromEntries(order.map(([name], i) => [name, loads[i]])))
  }
  return results
}

export const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 }

/**
 * Streams `size` bytes (a PushEvent head, then filler) without holding
 * them; returns the target's peak RSS during the upload minus
 * `referenceRss` (default: its RSS when the upload starts).
 */
export async function upload (url, pid, size, token, referenceRss = rssBytes(pid)) {
  const [head, rest] = envelope(token, 0).split('</ctx>')
  const tail = `</ctx>${rest}`
  const fill = size - Buffer.byteLength(head) - Buffer.byteLength(tail)
  const chunk = Buffer.alloc(64 * 1024, 'y')
  async function * generate () {
    yield Buffer.from(head)
    for (let sent = 0; sent < fill; sent += chunk.length) yield sent + chunk.length <= fill ? chunk : chunk.subarray(0, fill - sent)
    yield Buffer.from(tail)
  }
  let peak = rssBytes(pid)
  const sampler = setInterval(() => { peak = Math.max(peak, rssBytes(pid)) }, 20)
  const t0 = Date.now()
  const status = await new Promise((resolve, reject) => {
    const req = request(`${url}/nl/jsp/soaprouter.jsp`, { method: 'POST', agent: false, headers: { ...HEADERS, 'content-length': String(size) } }, res => { res.resume(); res.on('end', () => resolve(res.statusCode)) })
    req.on('error', reject)
    Readable.from(generate()).pipe(req)
  })
  clearInterval(sampler)
  peak = Math.max(peak, rssBytes(pid))
  if (status !== 200) throw new Error(`upload of ${size} bytes answered ${status}`)
  return { growthMB: (peak - referenceRss) / 1024 ** 2, peakMB: peak / 1024 ** 2, seconds: (Date.now() - t0) / 1000 }
}

/** The proxy's requests_total by `integration/auth_path` (from its admin /metrics). */
export async function callsByIdentity (adminUrl) {
  const text = await fetch(`${adminUrl}/metrics`).then(r => r.text())
  const counts = {}
  for (const [, labels, value] of text.matchAll(/^campaign_ims_proxy_requests_total\{([^}]*)\} (\S+)$/gm)) {
    const label = (name) => new RegExp(`${name}="([^"]*)"`).exec(labels)?.[1] ?? ''
    const key = `${label('integration') || '(none)'}/${label('auth_path')}`
    counts[key] = (counts[key] ?? 0) + Number(value)
  }
  return counts
}

/**
 * Runs `fn` (a load on the proxy) and checks from the proxy's metrics that
 * every call it made was identified as `expected` (`integration/auth_path`).
 * `fn` is given the read of the metrics after it, to run as its load's
 * `afterwards` (inside the load's CPU measurement); when it does not, the
 * read follows it.
 */
export async function expectIdentity (adminUrl, expected, fn) {
  const before = await callsByIdentity(adminUrl)
  let after
  const readAfter = async () => { after = await callsByIdentity(adminUrl) }
  const result = await fn(readAfter)
  if (after === undefined) await readAfter()
  const delta = Object.entries(after).map(([key, n]) => [key, n - (before[key] ?? 0)]).filter(([, n]) => n > 0)
  const wrong = delta.filter(([key]) => key !== expected)
  if (wrong.length > 0 || delta.length === 0) throw new Error(`expected every call to be identified as ${expected}, the proxy counted ${delta.map(([k, n]) => `${n} × ${k}`).join(', ') || 'none'}`)
  return result
}
