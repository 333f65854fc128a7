// `npm run bench -- --profile`: the small-call scenario against the proxy
// alone, with the proxy under `node --cpu-prof`; the proxy is stopped with
// SIGTERM (it drains and exits, which is when Node writes the profile) and
// the .cpuprofile is summarised: the top functions by self time, and the
// same time grouped by module and by origin.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { SourceMap } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bodyOfSize, expectIdentity, INLINE, load, logon } from './calls.mjs'
import { LOGIN_INTEGRATION, NETWORK_INTEGRATION, ROOT, sourceAddressTowards, startIms, startProxy, startUpstream, stop, stopAll } from './processes.mjs'

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)'])
const ORIGINS = { node: 'Node.js internals (node:*)', native: 'native (C++ bindings, V8 builtins)', deps: 'dependencies (node_modules)', proxy: 'the proxy (src/)', other: 'other files' }

/** Where a call frame's code lives: module key, origin, and a readable file:line (dist/ lines mapped back to src/ through the source maps). */
function locator (root) {
  const maps = new Map()
  const sourceMap = (file) => {
    if (!maps.has(file)) {
      try {
        maps.set(file, new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8'))))
      } catch {
        maps.set(file, undefined)
      }
    }
    return maps.get(file)
  }
  return ({ functionName, url, lineNumber, columnNumber }) => {
    if (url === '') {
      if (SPECIAL.has(functionName)) return { module: functionName, origin: functionName, where: '' }
      return { module: '(native)', origin: ORIGINS.native, where: '' }
    }
    const line = lineNumber + 1
    if (url.startsWith('node:')) return { module: url, origin: ORIGINS.node, where: `${url}:${line}` }
    const file = url.startsWith('file:') ? fileURLToPath(url) : url
    const inDeps = file.lastIndexOf('/node_modules/')
    if (inDeps !== -1) {
      const rest = file.slice(inDeps + '/node_modules/'.length)
      const parts = rest.split('/')
      const pkg = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]
      return { module: `node_modules/${pkg}`, origin: ORIGINS.deps, where: `node_modules/${rest}:${line}` }
    }
    const rel = relative(root, file)
    if (rel.startsWith('dist/')) {
      const entry = sourceMap(file)?.findEntry(lineNumber, columnNumber)
      const source = entry?.originalSource === undefined ? `src/${rel.slice(5).replace(/\.js$/, '.ts')}` : relative(root, entry.originalSource.startsWith('file:') ? fileURLToPath(entry.originalSource) : join(dirname(file), entry.originalSource))
      return { module: source, origin: ORIGINS.proxy, where: `${source}:${entry?.originalLine === undefined ? line : entry.originalLine + 1}` }
    }
    return { module: rel.startsWith('..') ? file : rel, origin: ORIGINS.other, where: `${rel.startsWith('..') ? file : rel}:${line}` }
  }
}

/**
 * Samples per node id and the mean sampling interval (µs): over the whole
 * profile (hitCount), or only over `window` ([from, to] in µs of the
 * monotonic clock, which the profile's timestamps use too).
 */
function hitsOf (profile, window) {
  const whole = () => {
    const hits = new Map(profile.nodes.map(node => [node.id, node.hitCount ?? 0]))
    const n = [...hits.values()].reduce((a, b) => a + b, 0)
    return { hits, n, intervalUs: n === 0 ? 0 : (profile.endTime - profile.startTime) / n, windowed: false }
  }
  if (window === undefined || profile.samples === undefined || profile.timeDeltas === undefined) return whole()
  const [from, to] = window
  const hits = new Map()
  let n = 0
  let t = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]
    if (t < from || t > to) continue
    hits.set(profile.samples[i], (hits.get(profile.samples[i]) ?? 0) + 1)
    n++
  }
  if (n === 0) return whole()
  return { hits, n, intervalUs: (Math.min(to, profile.endTime) - Math.max(from, profile.startTime)) / n, windowed: true }
}

/** Self time per function, module and origin of a .cpuprofile (self time = samples × mean sampling interval). */
export function summariseProfile (profile, { root = ROOT, top = 25, title = 'CPU profile', window } = {}) {
  const where = locator(root)
  const { hits, n: samples, intervalUs, windowed } = hitsOf(profile, window)
  const functions = new Map()
  const modules = new Map()
  const origins = new Map()
  const add = (map, key, ms, extra) => { const entry = map.get(key) ?? { key, ms: 0, ...extra }; entry.ms += ms; map.set(key, entry) }
  for (const node of profile.nodes) {
    const count = hits.get(node.id) ?? 0
    if (count === 0) continue
    const ms = (count * intervalUs) / 1000
    const at = where(node.callFrame)
    const name = node.callFrame.functionName || '(anonymous)'
    add(functions, `${name} ${at.where}`, ms, { name, where: at.where, module: at.module })
    add(modules, at.module, ms, { origin: at.origin })
    add(origins, at.origin, ms)
  }
  const totalMs = [...origins.values()].reduce((t, o) => t + o.ms, 0)
  const busyMs = totalMs - (origins.get('(idle)')?.ms ?? 0)
  const sorted = (map) => [...map.values()].sort((a, b) => b.ms - a.ms)
  const pct = (ms, of) => `${of === 0 ? '0.0' : ((100 * ms) / of).toFixed(1)} %`
  const busy = (label, ms) => label === '(idle)' ? '' : pct(ms, busyMs)
  const table = (header, rows) => {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => String(r[i]).length)))
    const line = (cells) => cells.map((c, i) => (i < 3 ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join('  ').trimEnd()
    return [line(header), line(widths.map(w => '-'.repeat(w))), ...rows.map(line)].join('\n')
  }
  const fns = sorted(functions).slice(0, top)
  const mods = sorted(modules).slice(0, top)
  const text = `${title}
${samples} samples (${windowed ? 'the measured load only: startup, Logon, warm-up and shutdown left out' : 'the whole process'}), mean interval ${intervalUs.toFixed(0)} µs, ${(totalMs / 1000).toFixed(2)} s, ${(busyMs / 1000).toFixed(2)} s busy (everything but (idle)).
Self time: time with the function itself on top of the stack. "% busy" leaves out (idle).
Source lines of src/ files come from dist/*.js.map; a function's line is where it is defined.

Top ${fns.length} functions by self time
${table(['self ms', '% total', '% busy', 'function', 'location'], fns.map(f => [f.ms.toFixed(0), pct(f.ms, totalMs), busy(f.name, f.ms), f.name, f.where || f.module]))}

Top ${mods.length} modules by self time
${table(['self ms', '% total', '% busy', 'module', 'origin'], mods.map(m => [m.ms.toFixed(0), pct(m.ms, totalMs), busy(m.key, m.ms), m.key, m.origin]))}

By origin
${table(['self ms', '% total', '% busy', 'origin'], sorted(origins).map(o => [o.ms.toFixed(0), pct(o.ms, totalMs), busy(o.key, o.ms), o.key]))}
`
  return { text, functions: fns, modules: mods, origins: sorted(origins), totalMs, busyMs }
}

/**
 * Profiles the proxy under the small call (2 KiB PushEvent, 50
 * connections) on one identity path: 'session', 'network' or 'inline'.
 */
export async function profileSmallCall ({ path = 'session', bytes = 2048, seconds = 10, warmupSeconds = 2, connections = 50, intervalUs, signal = 'SIGTERM', out, log = console.log }) {
  const expected = { session: `${LOGIN_INTEGRATION}/session`, network: `${NETWORK_INTEGRATION}/network`, inline: `${LOGIN_INTEGRATION}/inline-password` }[path]
  if (expected === undefined) throw new Error(`--profile-path must be session, network or inline, not ${path}`)
  if (signal !== 'SIGTERM' && signal !== 'SIGINT') throw new Error(`--profile-signal must be SIGTERM or SIGINT, not ${signal}`)
  const profiles = join(ROOT, 'bench/profiles')
  mkdirSync(profiles, { recursive: true })
  const summaryPath = out ?? join(profiles, `small-call-${path}.txt`)
  const name = `small-call-${path}.cpuprofile`
  rmSync(join(profiles, name), { force: true })
  const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'))
  const { ims } = await startIms()
  const upstream = await startUpstream()
  const networkAddress = await sourceAddressTowards(upstream.url)
  const execArgv = ['--cpu-prof', `--cpu-prof-dir=${profiles}`, `--cpu-prof-name=${name}`, ...(intervalUs === undefined ? [] : [`--cpu-prof-interval=${intervalUs}`])]
  const proxy = await startProxy({ upstreamUrl: upstream.url, ims, dir, name: 'profiled', networkAddress, execArgv })
  const token = path === 'session' ? await logon(proxy.url) : path === 'network' ? '' : INLINE
  const body = bodyOfSize(token, bytes)
  await expectIdentity(proxy.adminUrl, expected, () => load({ url: proxy.url, body, connections, duration: warmupSeconds, pid: proxy.child.pid }))
  const nowUs = () => Number(process.hrtime.bigint() / 1000n)
  let window // the load alone, not the metrics scrapes around it
  const result = await expectIdentity(proxy.adminUrl, expected, async () => {
    const from = nowUs()
    const measured = await load({ url: proxy.url, body, connections, duration: seconds, pid: proxy.child.pid })
    window = [from, nowUs()]
    return measured
  })
  log(`profiled small call, ${path} path: ${result.rps.toFixed(0)} req/s, p99 ${result.p99} ms, ${result.cpuUsPerReq.toFixed(0)} µs CPU/req (the profiler adds its own cost)`)
  // Node writes the profile when the process exits: the proxy drains and exits on SIGTERM/SIGINT.
  const exit = await stop(proxy.child, { signal })
  await stopAll()
  await ims.close()
  if (exit.code !== 0) throw new Error(`the profiled proxy did not exit cleanly (${JSON.stringify(exit)}): no profile is written then`)
  if (!readdirSync(profiles).includes(name)) throw new Error(`no ${name} in ${profiles}`)
  const profilePath = join(profiles, name)
  const title = `CPU profile of the proxy (dist/cli.js serve): small call (2 KiB PushEvent), ${path} path, ${connections} connections, ${warmupSeconds} s warm-up, then ${seconds} s profiled (${result.rps.toFixed(0)} req/s under the profiler), stopped by ${signal}; ${new Date().toISOString()}; profile: ${relative(ROOT, profilePath)}`
  const summary = summariseProfile(JSON.parse(readFileSync(profilePath, 'utf8')), { title, window })
  mkdirSync(dirname(summaryPath), { recursive: true })
  writeFileSync(summaryPath, summary.text)
  return { summary, summaryPath, profilePath, result }
}
