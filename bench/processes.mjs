// The processes under test, each a child of the benchmark so that its CPU
// time (/proc/<pid>/stat) and RSS (/proc/<pid>/status) are its own.
import { execFileSync, fork, spawn } from 'node:child_process'
import { once } from 'node:events'
import { openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { join } from 'node:path'
import { hashPassword } from '../dist/auth/passwords.js'
import { ImsSimulator } from '../dist/sim/ims.js'

export const ROOT = new URL('../', import.meta.url).pathname
export const PASSWORD = 'bench-etl-password'
/** The integration that logs on (session token) and sends inline login/password. */
export const LOGIN_INTEGRATION = 'nightly-etl'
/** The integration recognised by the load generator's source address. */
export const NETWORK_INTEGRATION = 'loopback-agent'

const children = new Set()
process.on('exit', () => { for (const child of children) child.kill('SIGKILL') })

function track (child) {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

export async function freePort () {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  server.close()
  await once(server, 'close')
  return port
}

/** Forks a script that sends { port } once listening. */
export async function forkListening (script, args = [], options = {}) {
  const child = track(fork(script, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], ...options }))
  const [message] = await once(child, 'message')
  return { child, url: `http://127.0.0.1:${message.port}` }
}

export const startUpstream = () => forkListening(join(ROOT, 'bench/upstream.mjs'))
export const startBaseline = (upstreamUrl, token) => forkListening(join(ROOT, 'bench/baseline.mjs'), [upstreamUrl, token])

/** The IMS simulator with the benchmark's client, and a token for the baseline and nginx to inject. */
export async function startIms () {
  const ims = await ImsSimulator.start({ clients: [{ clientId: 'bench-client', secrets: ['bench-secret'], scopes: ['AdobeID', 'openid', 'campaign_sdk'] }] })
  const token = await fetch(ims.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=bench-client&client_secret=bench-secret&scope=AdobeID,openid,campaign_sdk' }).then(r => r.json()).then(j => j.access_token)
  return { ims, token, tokenRequests: () => ims.tokenRequests('bench-client') }
}

export async function until (condition, what, attempts = 400) {
  for (let i = 0; i < attempts; i++) {
    if (await condition()) return
    await new Promise(resolve => setTimeout(resolve, 25))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/**
 * The source address the load generator's connections to `url` come from
 * (what the proxy sees as the caller): the network integration matches
 * exactly this address, not all of 127.0.0.0/8.
 */
export async function sourceAddressTowards (url) {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  await once(socket, 'connect')
  const address = socket.localAddress
  socket.destroy()
  return address
}

/**
 * The proxy (dist/cli.js serve) with logging at info to a file and metrics
 * on. Two integrations on the same technical account: one with a login
 * (Logon → session token, inline login/password), one recognised by
 * `networkAddress`; a token is tried before the network, so only calls
 * without one take the network path.
 */
export async function startProxy ({ upstreamUrl, ims, dir, name, networkAddress, execArgv = [], storeUrl }) {
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
  - { name: ${LOGIN_INTEGRATION}, login: etl_operator, passwordHash: '${await hashPassword(PASSWORD)}', technicalAccount: marketing }
  - { name: ${NETWORK_INTEGRATION}, networks: ['${networkAddress}'], technicalAccount: marketing }
logging: { level: info }
${storeUrl === undefined ? '' : `store: { redis: { url: '${storeUrl}', keyPrefix: '${name}:' } }`}
`)
  const logFile = join(dir, `${name}.log`)
  const child = track(fork(join(ROOT, 'dist/cli.js'), ['serve', '--config', config], { execArgv, stdio: ['ignore', openSync(logFile, 'w'), 'inherit', 'ipc'] }))
  const url = `http://127.0.0.1:${port}`
  const adminUrl = `http://127.0.0.1:${adminPort}`
  await until(async () => await fetch(`${url}/`).then(() => true, () => false), `${name} to listen`)
  await until(async () => (await fetch(`${adminUrl}/readyz`)).status === 200, `${name} to be ready`)
  return { child, url, adminUrl, logFile }
}

/** Debian's redis-server on a loopback port (no persistence), for the proxy with a shared store; undefined when it is not installed. */
export async function startRedis () {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
  } catch {
    return undefined
  }
  const port = await freePort()
  const child = track(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }))
  await until(async () => await new Promise(resolve => {
    const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true) })
    socket.on('error', () => resolve(false))
  }), 'redis-server')
  return { child, url: `redis://127.0.0.1:${port}/0` }
}

/** nginx as a reference reverse proxy (one worker), or undefined when it is not installed. */
export async function startNginx (upstreamUrl, token, dir) {
  try {
    execFileSync('nginx', ['-v'], { stdio: 'ignore' })
  } catch {
    return undefined
  }
  const port = await freePort()
  const conf = join(dir, 'nginx.conf')
  writeFileSync(conf, `daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/nginx-error.log;
events { worker_connections 1024; }
http { access_log off; client_max_body_size 0; proxy_request_buffering off; proxy_http_version 1.1;
  upstream campaign { server ${new URL(upstreamUrl).host}; keepalive 64; }
  server { listen 127.0.0.1:${port}; location / { proxy_pass http://campaign; proxy_set_header Connection ""; proxy_set_header Authorization "Bearer ${token}"; } } }`)
  const child = track(spawn('nginx', ['-c', conf], { stdio: 'ignore' }))
  const url = `http://127.0.0.1:${port}`
  await until(async () => await fetch(`${url}/`).then(() => true, () => false), 'nginx')
  return { child, url }
}

/** Asks a child to stop (the proxy drains and exits on SIGTERM/SIGINT) and waits for it; SIGKILL after `graceMs`. */
export async function stop (child, { signal = 'SIGTERM', graceMs = 35_000 } = {}) {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode }
  const exited = once(child, 'exit')
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  const [code, by] = await exited
  clearTimeout(timer)
  return { code, signal: by }
}

export const stopAll = async () => { await Promise.all([...children].map(child => stop(child))) }

/** CPU time (ms) of a process and its children (nginx's workers are children of its master). */
export function cpuMs (pid) {
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

/** The pids of a process and of its children (nginx's workers are children of its master). */
function family (pid) {
  const pids = [pid]
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === pid) pids.push(Number(entry))
    } catch {}
  }
  return pids
}

/**
 * The CPUs of the benchmark, when the machine has two or more and
 * `taskset` is installed: the processes under test (baseline, proxy,
 * nginx) on one, the load generator (this process, with the IMS
 * simulator), the upstream and redis-server on the other, so that a
 * process under test never shares its CPU with the load it is given and
 * its throughput is its own. undefined otherwise (nothing is pinned).
 */
export const CPUS = (() => {
  let allowed
  try {
    // "pid 123's current affinity list: 0,1" (ranges as 0-3)
    allowed = execFileSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8' }).split(':').pop().trim().split(',')
      .flatMap(part => { const [from, to = from] = part.split('-').map(Number); return Array.from({ length: to - from + 1 }, (_, i) => from + i) })
  } catch {
    return undefined
  }
  return allowed.length < 2 ? undefined : { load: allowed[0], underTest: allowed[1] }
})()

/** Pins every thread of `pid` and of its children to `cpu` (no-op when CPUS is undefined). */
export function pin (pid, cpu) {
  if (CPUS === undefined) return
  for (const member of family(pid)) execFileSync('taskset', ['-a', '-pc', String(cpu), String(member)], { stdio: 'ignore' })
}

export function rssBytes (pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024
}
