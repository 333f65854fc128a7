// Acceptance (packaging), proven without a Docker engine: the runtime
// stage of the Dockerfile reproduced. The build output is installed with
// production dependencies only (as `npm ci --omit=dev` in the image), made
// read-only, and started as a non-root user with config/default.yaml and
// the environment docker-compose.yml sets; then /readyz and a SOAP call
// through it against the simulators. A runtime dependency declared only as
// a devDependency makes it fail to start.
//
// Like the image's /usr/local/bin/node, the runtime the non-root user starts
// is its own copy of this checkout's Node binary, in a directory under the
// system's temporary directory that everyone can traverse: the checkout
// itself may sit where that user cannot reach (a 0700 home or mktemp -d).
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { constants } from 'node:fs'
import { chmod, copyFile, cp, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { CampaignSimulator } from '../../src/sim/campaign.js'
import { ImsSimulator } from '../../src/sim/ims.js'
import { send } from '../fixtures/http.js'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** The image's `node` user runs the proxy; here any non-root user does (nobody). */
const NOBODY = 65534
const CLIENT = { clientId: 'compose-demo-client', secret: 'compose-demo-client-secret' }

async function freePort (): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

/**
 * The Node binary running this test, copied into a new directory under the
 * temporary directory (read-only, traversable and executable by every user);
 * removed when the test ends. Returns the binary's path.
 */
async function nodeRuntime (t: Test): Promise<string> {
  const runtime = await mkdtemp(join(tmpdir(), 'container-node-'))
  t.teardown(async () => { await chmod(runtime, 0o755); await rm(runtime, { recursive: true, force: true }) })
  const node = join(runtime, 'node')
  await copyFile(process.execPath, node, constants.COPYFILE_FICLONE)
  await chmod(node, 0o555)
  await chmod(runtime, 0o555)
  return node
}

/** chmod -R: directories and files readable by all, writable by nobody. */
async function readOnly (path: string): Promise<void> {
  const info = await stat(path)
  if (info.isDirectory()) {
    for (const entry of await readdir(path)) await readOnly(join(path, entry))
    await chmod(path, 0o555)
  } else {
    await chmod(path, (info.mode & 0o111) !== 0 ? 0o555 : 0o444)
  }
}

// Two installs and two builds: on a machine whose cores are busy this file needs more than the suite's 60 s per file.
t.setTimeout(480_000)

t.test('the runtime stage: production dependencies only, non-root, read-only, default.yaml', async t => {
  t.setTimeout(240_000)
  const app = await mkdtemp(join(tmpdir(), 'container-app-'))
  t.teardown(async () => { await run('chmod', ['-R', 'u+w', app]); await rm(app, { recursive: true, force: true }) })
  // Build stage: the compiled output.
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(app, 'dist')])
  // Runtime stage: package files, production dependencies, config.
  await cp(join(ROOT, 'package.json'), join(app, 'package.json'))
  await cp(join(ROOT, 'package-lock.json'), join(app, 'package-lock.json'))
  await cp(join(ROOT, 'config'), join(app, 'config'), { recursive: true })
  const started = Date.now()
  await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, env: { ...process.env, NODE_ENV: 'production' } })
  t.comment(`npm ci --omit=dev took ${Date.now() - started} ms`)
  const installed = await readdir(join(app, 'node_modules'))
  t.ok(installed.includes('fastify') && !installed.includes('tap') && !installed.includes('typescript') && !installed.includes('@adobe'), 'only production dependencies are installed')
  await readOnly(app)

  const ims = await ImsSimulator.start({ clients: [{ clientId: CLIENT.clientId, secrets: [CLIENT.secret], scopes: ['AdobeID', 'openid', 'campaign_sdk', 'additional_info.projectedProductContext'] }] })
  const campaign = await CampaignSimulator.start({ authority: ims.authority, strict: true, imsMandatory: true })
  t.teardown(async () => { await Promise.all([ims.close(), campaign.close()]) })
  const secrets = await mkdtemp(join(tmpdir(), 'container-secrets-'))
  t.teardown(() => rm(secrets, { recursive: true, force: true }))
  await writeFile(join(secrets, 'ims_client_secret'), `${CLIENT.secret}\n`)
  await writeFile(join(secrets, 'proxy_session_secret'), 'container-contract-session-secret-0123456789\n')
  await readOnly(secrets)
  const [proxyPort, adminPort] = [await freePort(), await freePort()]
  const asRoot = process.getuid?.() === 0
  const node = await nodeRuntime(t)
  // The environment docker-compose.yml gives the proxy service.
  const env = {
    PATH: `${dirname(node)}:${process.env.PATH ?? ''}`,
    CAMPAIGN_URL: campaign.url,
    IMS_TOKEN_URL: ims.tokenUrl,
    IMS_CLIENT_ID: CLIENT.clientId,
    IMS_CLIENT_SECRET_FILE: join(secrets, 'ims_client_secret'),
    PROXY_SESSION_SECRET_FILE: join(secrets, 'proxy_session_secret'),
    WSDL_TECHNICAL_ACCOUNT: 'main',
    INTEGRATION_NAME: 'compose-sidecar',
    LOG_LEVEL: 'info',
    PROXY_HOST: '127.0.0.1',
    PROXY_PORT: String(proxyPort),
    ADMIN_HOST: '127.0.0.1',
    ADMIN_PORT: String(adminPort),
    NODE_ENV: 'production',
    MALLOC_MMAP_THRESHOLD_: '131072',
  }
  // Exactly that environment: `env -i` (which execs node, so signals reach it) also drops the
  // NODE_OPTIONS tap's coverage adds to every process spawned, which would load its hooks from this checkout.
  const command = [...Object.entries(env).map(([name, value]) => `${name}=${value}`), node, join(app, 'dist/cli.js'), 'serve', '--config', join(app, 'config/default.yaml')]
  const child = spawn('env', ['-i', ...command], {
    cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'], ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  })
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c.toString() })
  child.stderr.on('data', (c: Buffer) => { output += c.toString() })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let ready = 0
  for (let i = 0; i < 200 && ready !== 200 && child.exitCode === null; i++) {
    await new Promise(resolve => setTimeout(resolve, 50))
    ready = await send(`http://127.0.0.1:${adminPort}/readyz`).then(r => r.status, () => 0)
  }
  t.equal(ready, 200, `/readyz answers 200 (${asRoot ? 'running as uid 65534' : 'running as the current non-root user'})`)
  if (ready !== 200) t.comment(output)
  const event = await send(`http://127.0.0.1:${proxyPort}/nl/jsp/soaprouter.jsp`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: 'nms:rtEvent#PushEvent' },
    body: "<SOAP-ENV:Envelope xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/'><SOAP-ENV:Body><m:PushEvent xmlns:m='urn:nms:rtEvent'><sessiontoken>mc/mc-password</sessiontoken><domEvent><rtEvent type='welcome' email='c@example.com'/></domEvent></m:PushEvent></SOAP-ENV:Body></SOAP-ENV:Envelope>",
  })
  t.equal(event.status, 200, 'a SOAP call from the loopback sidecar goes through')
  t.match(campaign.requests.at(-1)?.headers.authorization, /^Bearer /, 'and reaches Campaign with a bearer')
  child.kill('SIGTERM')
  const [code] = await once(child, 'close') as [number | null]
  t.equal(code, 0, 'SIGTERM stops it cleanly (nothing was written to the read-only directory)')
  t.match(output, '"msg":"request"', 'the access log went to stdout, flushed before exit')
})

t.test('a runtime dependency declared only as a devDependency is caught', async t => {
  // The same install with `yaml` moved to devDependencies: the proxy cannot load its configuration.
  t.setTimeout(240_000)
  const app = await mkdtemp(join(tmpdir(), 'container-broken-'))
  t.teardown(() => rm(app, { recursive: true, force: true }))
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(app, 'dist')])
  const pkg = JSON.parse(await (await import('node:fs/promises')).readFile(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>, devDependencies: Record<string, string> }
  pkg.devDependencies.yaml = pkg.dependencies.yaml as string
  delete pkg.dependencies.yaml
  await writeFile(join(app, 'package.json'), JSON.stringify(pkg, null, 2))
  await mkdir(join(app, 'config'))
  await cp(join(ROOT, 'config/default.yaml'), join(app, 'config/default.yaml'))
  // npm ci refuses a lock file that disagrees with package.json, so install from package.json as the image would after `npm install --omit=dev`.
  await run('npm', ['install', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: app })
  const failed = await run(process.execPath, [join(app, 'dist/cli.js'), 'serve', '--config', join(app, 'config/default.yaml')], { cwd: app, env: { PATH: process.env.PATH ?? '' } }).then(() => undefined, (err: unknown) => err as { code: number, stderr: string })
  t.ok(failed !== undefined && failed.code !== 0, 'the proxy does not start')
  t.match(failed?.stderr, /Cannot find package 'yaml'/, "because the production install lacks 'yaml'")
})
