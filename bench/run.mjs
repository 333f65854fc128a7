// `npm run bench [-- --quick]`: the performance targets (docs/benchmarks.md),
// measured as ratios against a bare @fastify/http-proxy pass-through in the
// same run. Every process under test is a child process, so its CPU time
// (/proc/<pid>/stat) and RSS (/proc/<pid>/status) are its own; the load
// comes from autocannon in this process. Writes docs/benchmarks.md and
// docs/benchmarks-body-size.svg of the tree this script is in.
//
// `npm run bench -- --profile [--profile-path session|network|inline]
// [--profile-out FILE] [--profile-seconds N] [--profile-bytes N] [--profile-interval µs]
// [--profile-signal SIGTERM|SIGINT]`:
// only the small call against the proxy under `node --cpu-prof`; prints
// and writes a summary (default bench/profiles/small-call-<path>.txt).
import { execFileSync } from 'node:child_process'
import { cpus, tmpdir } from 'node:os'
import { mkdtempSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { bodyOfSize, expectIdentity, HEADERS, INLINE, load, logon, median, sideBySideRuns, upload } from './calls.mjs'
import { profileSmallCall } from './profile.mjs'
import { CPUS, LOGIN_INTEGRATION, NETWORK_INTEGRATION, pin, ROOT, rssBytes, sourceAddressTowards, startBaseline, startIms, startNginx, startProxy, startRedis, startUpstream, stop, stopAll } from './processes.mjs'
import { formatSize, SMALL_PATHS, writeReport } from './report.mjs'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'profile-path': { type: 'string', default: 'session' },
    'profile-out': { type: 'string' },
    'profile-seconds': { type: 'string', default: '10' },
    'profile-bytes': { type: 'string', default: '2048' },
    'profile-interval': { type: 'string' },
    'profile-signal': { type: 'string', default: 'SIGTERM' },
  },
})
const QUICK = values.quick
const RUNS = QUICK ? 1 : 3
// The small call: ROTATIONS rounds of SLICE_SECONDS loads, each path next to one of the baseline.
const ROTATIONS = QUICK ? 3 : 15
const SLICE_SECONDS = 1
// The body-size sweep: pairs of 1 s loads up to 100 KiB; RUNS pairs of a fixed number of calls above.
const SWEEP_PAIRS = QUICK ? 3 : 9
const SIZES = QUICK ? [1024, 100 * 1024, 10 * 1024 ** 2] : [1024, 10 * 1024, 100 * 1024, 1024 ** 2, 10 * 1024 ** 2, 100 * 1024 ** 2]
const UPLOADS = [200 * 1024 ** 2, 1024 ** 3]
const started = Date.now()
const log = (...args) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s]`, ...args)
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${execFileSync('uname', ['-sr']).toString().trim()}`

if (values.profile) {
  log(`machine: ${machine}; mode: profile (${values['profile-path']} path)`)
  const { summary, summaryPath } = await profileSmallCall({
    path: values['profile-path'],
    signal: values['profile-signal'],
    seconds: Number(values['profile-seconds']),
    bytes: Number(values['profile-bytes']),
    ...(values['profile-interval'] === undefined ? {} : { intervalUs: Number(values['profile-interval']) }),
    ...(values['profile-out'] === undefined ? {} : { out: resolve(values['profile-out']) }),
    log,
  })
  console.log(`\n${summary.text}`)
  log(`wrote ${relative(process.cwd(), summaryPath) || summaryPath}`)
  process.exit(0)
}

// ---------------------------------------------------------------- the processes

// The load generator (this process, with the IMS simulator), the upstream
// and redis-server on one CPU, each process under test on the other
// (processes.mjs CPUS): a process under test has its CPU to itself.
const underTest = (target) => { pin(target.child.pid, CPUS?.underTest); return target }
const besideTheLoad = (target) => { pin(target.child.pid, CPUS?.load); return target }
pin(process.pid, CPUS?.load)
const dir = mkdtempSync(join(tmpdir(), 'bench-'))
const { ims, token, tokenRequests } = await startIms()
const upstream = besideTheLoad(await startUpstream())
// The proxy sees the load generator's connections as coming from this address; the network integration matches it alone.
const networkAddress = await sourceAddressTowards(upstream.url)
const baseline = underTest(await startBaseline(upstream.url, token))
const proxy = underTest(await startProxy({ upstreamUrl: upstream.url, ims, dir, name: 'proxy', networkAddress }))
const session = await logon(proxy.url)
log(`machine: ${machine}; mode: ${QUICK ? 'quick' : 'full'}; load generator address ${networkAddress}; ${CPUS === undefined ? 'nothing pinned (one CPU, or no taskset)' : `load generator and upstream on CPU ${CPUS.load}, processes under test on CPU ${CPUS.underTest}`}`)
const startedNginx = await startNginx(upstream.url, token, dir)
const nginx = startedNginx === undefined ? undefined : underTest(startedNginx)
if (nginx === undefined) log('nginx is not installed (apt-get install nginx): the nginx reference is skipped')
const startedRedis = await startRedis()
const redis = startedRedis === undefined ? undefined : besideTheLoad(startedRedis)
if (redis === undefined) log('redis-server is not installed (apt-get install redis-server): the shared store comparison is skipped')

// ---------------------------------------------------------------- 1. small SOAP call (about 2 KB) at 50 connections

// A shared machine's speed changes several-fold within a minute, so every
// row is measured in pairs: one short slice of load on it and one on the
// baseline right before or after (the order alternating from pair to
// pair), ROTATIONS times. A row's ratio to the baseline is the median of
// its pairs' ratios.
const SMALL = 2048
const paths = [
  { name: 'direct', target: upstream, body: bodyOfSize('', SMALL) },
  { name: 'baseline', target: baseline, body: bodyOfSize('', SMALL) },
  { name: SMALL_PATHS.session, target: proxy, body: bodyOfSize(session, SMALL), identity: `${LOGIN_INTEGRATION}/session` },
  { name: SMALL_PATHS.inline, target: proxy, body: bodyOfSize(INLINE, SMALL), identity: `${LOGIN_INTEGRATION}/inline-password` },
  { name: SMALL_PATHS.network, target: proxy, body: bodyOfSize('', SMALL), identity: `${NETWORK_INTEGRATION}/network` },
  ...(nginx === undefined ? [] : [{ name: 'nginx', target: nginx, body: bodyOfSize('', SMALL) }]),
]
/** One load on a path; on the proxy, checked against the proxy's count of how each call was identified. */
const loadPath = ({ target, body, identity, adminUrl = proxy.adminUrl }, duration) => {
  const run = (afterwards) => load({ url: target.url, body, connections: 50, duration, pid: target.child.pid, afterwards })
  return identity === undefined ? run() : expectIdentity(adminUrl, identity, run)
}
for (const path of paths) await loadPath(path, 2) // warm-up (JIT, pools)
const tokensBeforeWarm = tokenRequests()
const baselinePath = paths.find(p => p.name === 'baseline')
const others = paths.filter(p => p !== baselinePath)
const rotations = []
for (let rotation = 0; rotation < ROTATIONS; rotation++) {
  const pairs = {}
  for (const [i, path] of others.entries()) {
    const baselineFirst = (rotation + i) % 2 === 0
    const first = await loadPath(baselineFirst ? baselinePath : path, SLICE_SECONDS)
    const second = await loadPath(baselineFirst ? path : baselinePath, SLICE_SECONDS)
    pairs[path.name] = baselineFirst ? { slice: second, baseline: first } : { slice: first, baseline: second }
  }
  rotations.push(pairs)
  log(`small call, rotation ${rotation + 1}: ${others.map(p => `${p.name} ${pairs[p.name].slice.rps.toFixed(0)} req/s ${pairs[p.name].slice.cpuUsPerReq.toFixed(0)} µs (baseline ${pairs[p.name].baseline.rps.toFixed(0)} req/s ${pairs[p.name].baseline.cpuUsPerReq.toFixed(0)} µs)`).join(', ')}`)
}
const warmTokenRequests = tokenRequests() - tokensBeforeWarm

// ---------------------------------------------------------------- 1b. the shared store's cost

// The proxy with store.redis and the proxy without, loaded side by side
// (calls.mjs sideBySideRuns): two fresh proxies, warmed alike, so that
// neither has a JIT the other lacks.
const STORE_SECONDS = QUICK ? 4 : 10
const storeRuns = []
if (redis !== undefined) {
  const withStore = underTest(await startProxy({ upstreamUrl: upstream.url, ims, dir, name: 'proxy-store', networkAddress, storeUrl: redis.url }))
  const withoutStore = underTest(await startProxy({ upstreamUrl: upstream.url, ims, dir, name: 'proxy-no-store', networkAddress }))
  const sides = [['store', withStore, bodyOfSize(await logon(withStore.url), SMALL)], ['none', withoutStore, bodyOfSize(await logon(withoutStore.url), SMALL)]]
  await sideBySideRuns(sides, { runs: 1, duration: STORE_SECONDS }) // warm-up
  storeRuns.push(...await sideBySideRuns(sides, { runs: RUNS * 2, duration: STORE_SECONDS }))
  storeRuns.forEach((byName, run) => { log(`shared store (run ${run + 1}): with ${byName.store.rps.toFixed(0)} req/s ${byName.store.cpuUsPerReq.toFixed(0)} µs CPU/req, without ${byName.none.rps.toFixed(0)} req/s ${byName.none.cpuUsPerReq.toFixed(0)} µs CPU/req`) })
  await Promise.all([withStore, withoutStore].map(p => stop(p.child)))
}
const storeCost = storeRuns.length === 0
  ? undefined
  : {
      runs: storeRuns.length,
      store: { rps: median(storeRuns.map(r => r.store.rps)), cpu: median(storeRuns.map(r => r.store.cpuUsPerReq)) },
      none: { rps: median(storeRuns.map(r => r.none.rps)), cpu: median(storeRuns.map(r => r.none.cpuUsPerReq)) },
    }
// ---------------------------------------------------------------- 1c. the proxy and the baseline side by side

// The rows of 1. meet the machine at different moments, and a shared
// machine's speed can change several-fold within a minute. Here the
// baseline and the proxy (both warm) are loaded side by side
// (sideBySideRuns); the figure is the median of the per-run ratios.
const SIDE_SECONDS = QUICK ? 3 : 5
const sideBySide = {}
for (const key of ['session', 'network']) {
  const identity = key === 'session' ? `${LOGIN_INTEGRATION}/session` : `${NETWORK_INTEGRATION}/network`
  const sides = [['baseline', baseline, bodyOfSize('', SMALL)], ['proxy', proxy, bodyOfSize(key === 'session' ? session : '', SMALL)]]
  const runs = await sideBySideRuns(sides, { runs: RUNS * 2, duration: SIDE_SECONDS, around: (fn) => expectIdentity(proxy.adminUrl, identity, fn) })
  runs.forEach((by, run) => { log(`side by side, ${SMALL_PATHS[key]} (run ${run + 1}): proxy ${by.proxy.rps.toFixed(0)} req/s ${by.proxy.cpuUsPerReq.toFixed(0)} µs CPU/req, baseline ${by.baseline.rps.toFixed(0)} req/s ${by.baseline.cpuUsPerReq.toFixed(0)} µs CPU/req`) })
  const ratios = runs.map(by => ({ rps: by.proxy.rps / by.baseline.rps, cpu: by.proxy.cpuUsPerReq / by.baseline.cpuUsPerReq }))
  sideBySide[key] = { runs: ratios.length, rps: median(ratios.map(r => r.rps)), cpu: median(ratios.map(r => r.cpu)), lowest: Math.min(...ratios.map(r => r.rps)), highest: Math.max(...ratios.map(r => r.rps)) }
}

/** A row's medians over its slices, and over its pairs of its ratios to the baseline (and to nginx, through their pairs). */
const rowOf = (slices, pairRatio, pairCpuRatio) => ({
  rps: median(slices.map(r => r.rps)),
  p99: median(slices.map(r => r.p99)),
  p50: median(slices.map(r => r.p50)),
  cpu: median(slices.map(r => r.cpuUsPerReq)),
  busy: median(slices.map(r => r.busy)),
  vsBaseline: median(rotations.map(pairRatio)),
  cpuVsBaseline: median(rotations.map(pairCpuRatio)),
  ...(nginx === undefined ? {} : { vsNginx: median(rotations.map(r => pairRatio(r) / (r.nginx.slice.rps / r.nginx.baseline.rps))) }),
})
const smallMedian = Object.fromEntries(paths.map(({ name }) => [name, name === 'baseline'
  ? rowOf(rotations.flatMap(r => Object.values(r).map(pair => pair.baseline)), () => 1, () => 1)
  : rowOf(rotations.map(r => r[name].slice), r => r[name].slice.rps / r[name].baseline.rps, r => r[name].slice.cpuUsPerReq / r[name].baseline.cpuUsPerReq)]))

// ---------------------------------------------------------------- 2. body-size sweep (session-token path)

const sweep = []
/** A read of the proxy's metrics after each of its sweep runs, inside the run's CPU measurement (as in 1.). */
const scrape = () => fetch(`${proxy.adminUrl}/metrics`).then(r => r.text())
for (const size of SIZES) {
  const row = { size }
  const connections = size >= 10 * 1024 ** 2 ? 2 : size >= 1024 ** 2 ? 4 : 16
  const amount = size >= 100 * 1024 ** 2 ? 6 : size >= 10 * 1024 ** 2 ? 20 : 100
  const sides = [['baseline', baseline, bodyOfSize('', size)], ['proxy', proxy, bodyOfSize(session, size)]]
  const runs = { baseline: [], proxy: [] }
  // Pairs, as for the small call: the baseline and the proxy one right after the other, the order alternating.
  const timed = size < 1024 ** 2
  for (let pair = 0; pair < (timed ? SWEEP_PAIRS : RUNS); pair++) {
    for (const [name, target, body] of pair % 2 === 0 ? sides : [...sides].reverse()) runs[name].push(await load({ url: target.url, body, connections, pid: target.child.pid, ...(timed ? { duration: 1 } : { amount }), ...(name === 'proxy' ? { afterwards: scrape } : {}) }))
  }
  for (const name of ['baseline', 'proxy']) row[name] = { mbps: median(runs[name].map(r => r.mbps)), cpu: median(runs[name].map(r => r.cpuUsPerReq)) }
  row.cpuRatio = median(runs.proxy.map((r, i) => r.cpuUsPerReq / runs.baseline[i].cpuUsPerReq))
  row.mbpsRatio = median(runs.proxy.map((r, i) => r.mbps / runs.baseline[i].mbps))
  sweep.push(row)
  log(`body ${formatSize(size)}: baseline ${row.baseline.mbps.toFixed(1)} MB/s ${row.baseline.cpu.toFixed(0)} µs/req, proxy ${row.proxy.mbps.toFixed(1)} MB/s ${row.proxy.cpu.toFixed(0)} µs/req`)
}

// ---------------------------------------------------------------- 3. large uploads: peak RSS growth on fresh processes

// The processes above have grown their heaps in the sweep; each run here
// starts its own upstream, baseline and proxy, warms each up with one
// 1 MiB call, and measures every upload against the RSS after that.
const settle = () => new Promise(resolve => setTimeout(resolve, 500))
const uploadRuns = []
for (let run = 0; run < RUNS; run++) {
  const freshUpstream = besideTheLoad(await startUpstream())
  const freshBaseline = underTest(await startBaseline(freshUpstream.url, token))
  const freshProxy = underTest(await startProxy({ upstreamUrl: freshUpstream.url, ims, dir, name: `upload-${run}`, networkAddress }))
  const freshSession = await logon(freshProxy.url)
  const targets = [['baseline', freshBaseline, ''], ['proxy', freshProxy, freshSession]]
  const warm = {}
  for (const [name, target, token] of targets) {
    await upload(target.url, target.child.pid, 1024 ** 2, token)
    await settle()
    warm[name] = rssBytes(target.child.pid)
  }
  const measured = {}
  for (const size of UPLOADS) {
    for (const [name, target, token] of targets) {
      const result = await upload(target.url, target.child.pid, size, token, warm[name])
      ;(measured[size] ??= {})[name] = { ...result, warmMB: warm[name] / 1024 ** 2 }
    }
    log(`upload ${formatSize(size)} (run ${run + 1}, fresh processes): RSS growth baseline ${measured[size].baseline.growthMB.toFixed(1)} MB (${measured[size].baseline.seconds.toFixed(1)} s), proxy ${measured[size].proxy.growthMB.toFixed(1)} MB (${measured[size].proxy.seconds.toFixed(1)} s)`)
  }
  uploadRuns.push(measured)
  await Promise.all([freshProxy, freshBaseline, freshUpstream].map(p => stop(p.child)))
}
const uploads = UPLOADS.map(size => {
  const med = (name) => Object.fromEntries(['growthMB', 'warmMB', 'seconds'].map(k => [k, median(uploadRuns.map(r => r[size][name][k]))]))
  return { size, baseline: med('baseline'), proxy: med('proxy') }
})

// ---------------------------------------------------------------- 4. cold start

// 1,000 concurrent first requests on a fresh proxy whose first token request is slow.
ims.faults.inject({ kind: 'latency', ms: 1000 }, { times: 1 })
const tokensBeforeCold = tokenRequests()
const coldProxy = underTest(await startProxy({ upstreamUrl: upstream.url, ims, dir, name: 'cold', networkAddress }))
const coldBody = bodyOfSize(INLINE, SMALL)
// 1,000 requests issued at once over 250 connections (more simultaneous connects than the listen backlog would be refused by the kernel, not by the proxy).
const coldAgent = new Agent({ keepAlive: true, maxSockets: 250 })
const coldStatuses = await Promise.all(Array.from({ length: 1000 }, () => new Promise(resolve => {
  const req = request(`${coldProxy.url}/nl/jsp/soaprouter.jsp`, { method: 'POST', agent: coldAgent, headers: { ...HEADERS, 'content-length': Buffer.byteLength(coldBody) } }, res => { res.resume(); res.on('end', () => resolve(res.statusCode)) })
  req.on('error', () => resolve(0))
  req.end(coldBody)
})))
coldAgent.destroy()
const cold = { tokenRequests: tokenRequests() - tokensBeforeCold, ok: coldStatuses.filter(s => s === 200).length }
const coldOthers = Object.entries(coldStatuses.reduce((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {})).filter(([s]) => s !== '200').map(([s, n]) => `${n} × ${s === '0' ? 'connection error' : s}`).join(', ')
log(`cold start: ${cold.ok}/1000 answered 200${coldOthers === '' ? '' : ` (${coldOthers})`}, ${cold.tokenRequests} token request(s)`)

// ---------------------------------------------------------------- report

await stopAll()
await ims.close()
const { generated, docPath } = await writeReport(ROOT, {
  quick: QUICK,
  runs: RUNS,
  machine,
  seconds: (Date.now() - started) / 1000,
  rotations: ROTATIONS,
  sliceSeconds: SLICE_SECONDS,
  sweepPairs: SWEEP_PAIRS,
  pinned: CPUS,
  small: smallMedian,
  sweep,
  uploads,
  cold,
  warmTokenRequests,
  networkAddress,
  storeCost,
  sideBySide,
})
console.log(`\n${generated}`)
log(`wrote ${docPath} and docs/benchmarks-body-size.svg`)
process.exit(0)
