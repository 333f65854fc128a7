// Acceptance (reload): `serve` in a child process re-reads its configuration
// and secret files on SIGHUP and when the file changes: a new integration
// works, a rotated secret is used, a removed integration's sessions stop
// working, and an invalid configuration leaves the old one serving.
import { fork } from 'node:child_process'
import { mkdir, mkdtemp, rename, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import t, { type Test } from 'tap'
import { hashPassword } from '../../src/auth/passwords.js'
import { parseConfig } from '../../src/config/load.js'
import { startServer, watchConfigFile } from '../../src/server.js'
import { CampaignSimulator } from '../../src/sim/campaign.js'
import { ImsSimulator } from '../../src/sim/ims.js'
import { PROXY_FAULTS } from '../../src/soap/faults.js'
import { send } from '../fixtures/http.js'
import { ACCOUNTS } from '../fixtures/proxy-stack.js'
import { outputText, soapEnvelope } from '../fixtures/soap.js'

const PASSWORD = 'reload-pw-1'
const getOption = (token: string): string => soapEnvelope({ schema: 'xtk:session', method: 'GetOption', sessionToken: token, params: [['name', 'XtkDatabaseId']] })
const logon = soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', 'etl_operator'], ['password', PASSWORD], ['parameters', { xml: '' }]] })
const pushEvent = soapEnvelope({ schema: 'nms:rtEvent', method: 'PushEvent', params: [['domEvent', { xml: '<rtEvent type="x" email="r@example.com"/>' }]] })

async function until (condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (condition()) return
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  throw new Error(`timed out waiting for ${what}`)
}

interface Sims { ims: ImsSimulator, campaign: CampaignSimulator }

async function sims (t: Test): Promise<Sims> {
  const ims = await ImsSimulator.start({ clients: Object.values(ACCOUNTS) })
  const campaign = await CampaignSimulator.start({ authority: ims.authority, strict: true, imsMandatory: true })
  t.teardown(async () => { await Promise.all([ims.close(), campaign.close()]) })
  return { ims, campaign }
}

function yaml (s: Sims, body: string): string {
  return `
listen: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
campaign: { url: '${s.campaign.url}', timeoutSeconds: 10 }
ims: { tokenUrl: '${s.ims.tokenUrl}', timeoutSeconds: 5 }
unknownCallers: reject
${body}
`
}

t.test('SIGHUP and file changes reload a running serve process', async t => {
  const s = await sims(t)
  const dir = await mkdtemp(join(tmpdir(), 'reload-'))
  await mkdir(join(dir, 'secrets'))
  const secretFile = join(dir, 'secrets', 'session')
  const configFile = join(dir, 'proxy.yaml')
  await writeFile(secretFile, 'first-session-secret-0123456789abcdefghij')
  const hash = await hashPassword(PASSWORD, { N: 1024 })
  const accounts = (marketingSecret: string): string => `
technicalAccounts:
  marketing: { clientId: marketing-client, clientSecret: ${marketingSecret}, scopes: [AdobeID, openid, campaign_sdk] }
  events: { clientId: events-client, clientSecret: events-secret, scopes: [AdobeID, openid, campaign_sdk] }
sessions: { secret: { file: '${secretFile}' } }`
  await writeFile(configFile, yaml(s, `${accounts('marketing-secret')}
integrations:
  - { name: nightly-etl, login: etl_operator, passwordHash: '${hash}', technicalAccount: marketing }
`))
  const child = fork(fileURLToPath(new URL('../../src/cli.ts', import.meta.url)), ['serve', '--config', configFile], { execArgv: process.execArgv, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const lines: Array<Record<string, unknown>> = []
  let partial = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8')
    const parts = text.split('\n')
    partial = parts.pop() as string
    for (const line of parts) lines.push(JSON.parse(line) as Record<string, unknown>)
  })
  const count = (msg: string): number => lines.filter(l => l.msg === msg).length
  await until(() => count('campaign-ims-proxy listening') === 1, 'the proxy to listen')
  const started = lines.find(l => l.msg === 'campaign-ims-proxy listening') as { proxy: string, admin: string }
  const router = `${started.proxy}/nl/jsp/soaprouter.jsp`
  const post = (body: string, from = '127.0.0.1'): ReturnType<typeof send> => send(router, { method: 'POST', localAddress: from, headers: { 'content-type': 'text/xml' }, body })
  await until(() => s.ims.tokenRequests('marketing-client') === 1, 'the first token')

  const session = outputText((await post(logon)).text, 'pstrSessionToken') as string
  t.equal((await post(getOption(session))).status, 200, 'a logged-on integration works')

  // 1. SIGHUP alone: the session secret file (outside the watched directory) is re-read.
  await writeFile(secretFile, 'second-session-secret-0123456789abcdefghij')
  child.kill('SIGHUP')
  await until(() => count('configuration reloaded') === 1, 'the SIGHUP reload')
  const stale = await post(getOption(session))
  t.equal(stale.status, 500, 'sessions signed with the old secret stop working after SIGHUP')
  t.match(stale.text, PROXY_FAULTS.sessionInvalid.message, 'with the session fault (the client logs on again)')
  const renewed = outputText((await post(logon)).text, 'pstrSessionToken') as string
  t.equal((await post(getOption(renewed))).status, 200, 'a new Logon works')
  t.equal(s.ims.tokenRequests('marketing-client'), 1, 'unchanged accounts keep their tokens')

  // 2. The file is replaced (the way Kubernetes swaps a ConfigMap): new integration, rotated client secret, removed integration.
  s.ims.registerClient({ clientId: 'marketing-client', scopes: ['AdobeID', 'openid', 'campaign_sdk'], secrets: ['rotated-marketing-secret'] })
  await writeFile(`${configFile}.new`, yaml(s, `${accounts('rotated-marketing-secret')}
integrations:
  - { name: website, networks: [127.0.0.2/32], technicalAccount: marketing }
`))
  await rename(`${configFile}.new`, configFile)
  child.kill('SIGHUP')
  await until(() => count('configuration reloaded') >= 2, 'the second reload')
  const removed = await post(getOption(renewed))
  t.equal(removed.status, 500, "a removed integration's session stops working")
  t.match(removed.text, /no longer configured/, 'and the fault says why')
  const event = await post(pushEvent, '127.0.0.2')
  t.equal(event.status, 200, 'the new integration works')
  t.equal(s.ims.tokenRequests('marketing-client'), 2, 'the changed account fetched one new token, with the rotated secret')
  const lastEvent = s.campaign.requests.at(-1)
  t.match(lastEvent?.headers.authorization, /^Bearer /, 'Campaign received the new token')

  // 3. An invalid configuration is refused; the running one keeps serving.
  const reloadsBefore = count('configuration reloaded')
  await writeFile(configFile, yaml(s, `${accounts('rotated-marketing-secret')}
integrations:
  - { name: website, networks: [127.0.0.2/32], technicalAccount: nobody, colour: blue }
`))
  child.kill('SIGHUP')
  await until(() => count('configuration reload refused: the running configuration is kept') >= 1, 'the refusal')
  const refused = lines.find(l => l.msg === 'configuration reload refused: the running configuration is kept') as { error: string }
  t.match(refused.error, /colour/, 'every problem is logged: the unknown key')
  t.match(refused.error, /nobody/, 'and the unknown account')
  t.equal((await post(pushEvent, '127.0.0.2')).status, 200, 'the old configuration still serves')
  t.equal(count('configuration reloaded'), reloadsBefore, 'nothing was applied')
  t.equal((await send(`${started.admin}/readyz`)).status, 200, 'and the proxy stays ready')

  child.kill('SIGTERM')
  await until(() => child.exitCode !== null, 'the process to exit')
  t.equal(child.exitCode, 0, 'it stops cleanly')
})

t.test('in-process reload: restart-only keys are kept and reported; unreadable configurations refused', async t => {
  const s = await sims(t)
  const config = parseConfig(yaml(s, `
technicalAccounts:
  marketing: { clientId: marketing-client, clientSecret: marketing-secret, scopes: [AdobeID] }
integrations:
  - { name: website, networks: [127.0.0.1/32], technicalAccount: marketing }
`), { source: 'first', env: {} })
  const logged: string[] = []
  const server = await startServer(config, pino({ level: 'silent' }, new Writable({ write (chunk: Buffer, _e, done) { logged.push(chunk.toString()); done() } })))
  t.teardown(() => server.close())
  const next = parseConfig(yaml({ ...s, campaign: { url: 'http://127.0.0.1:1' } as CampaignSimulator }, `
technicalAccounts:
  marketing: { clientId: marketing-client, clientSecret: marketing-secret, scopes: [AdobeID] }
integrations:
  - { name: website, networks: [127.0.0.1/32], technicalAccount: marketing }
logging: { level: warn }
`), { source: 'second', env: {} })
  const result = await server.reload(next)
  t.same(result, { ok: true, restartRequired: [], tokensRenewed: false }, 'a new Campaign URL is applied by the reload')
  t.equal(server.config.campaign.url, 'http://127.0.0.1:1', 'the new Campaign URL is the running one')
  t.equal(server.config.logging.level, 'warn', 'with the rest')
  const post = async (): Promise<number> => (await send(`${server.proxyUrl}/nl/jsp/soaprouter.jsp`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: pushEvent })).status
  t.equal(await post(), 502, 'traffic goes to the new URL (nothing listens there)')
  t.same(await server.reload(config), { ok: true, restartRequired: [], tokensRenewed: false }, 'the first URL back')
  t.equal(await post(), 200, 'and traffic reaches the first Campaign again')
  const moved = parseConfig(yaml(s, `
technicalAccounts:
  marketing: { clientId: marketing-client, clientSecret: marketing-secret, scopes: [AdobeID] }
integrations:
  - { name: website, networks: [127.0.0.1/32], technicalAccount: marketing }
`).replace(/listen: \{ host: 127\.0\.0\.1, port: 0 \}/, 'listen: { host: 127.0.0.1, port: 1 }'), { source: 'third', env: {} })
  t.same(await server.reload(moved), { ok: true, restartRequired: ['listen'], tokensRenewed: false }, 'a new listen port needs a restart and is reported')
  const failed = await server.reload(async () => { throw new Error('disk on fire') })
  t.same(failed, { ok: false, error: 'the configuration could not be read: disk on fire' }, 'a configuration that cannot be read is refused')
  t.match(logged.join(''), /disk on fire/, 'and the refusal is logged at the new level')
})

t.test("reloads and a session's credentials: a rotated password ends it, an unchanged reload keeps it, a name configured again does not revive it", async t => {
  const s = await sims(t)
  const firstHash = await hashPassword('reload-pw-1', { N: 1024 })
  const rotatedHash = await hashPassword('reload-pw-2', { N: 1024 })
  const readdedHash = await hashPassword('reload-pw-3', { N: 1024 })
  const configOf = (integrations: string, source: string): ReturnType<typeof parseConfig> => parseConfig(yaml(s, `
technicalAccounts:
  marketing: { clientId: marketing-client, clientSecret: marketing-secret, scopes: [AdobeID, openid, campaign_sdk] }
sessions: { secret: generation-test-secret-0123456789abcdefghij }
integrations:
${integrations}
`), { source, env: {} })
  const etl = (hash: string): string => `  - { name: nightly-etl, login: etl_operator, passwordHash: '${hash}', technicalAccount: marketing }`
  const server = await startServer(configOf(etl(firstHash), 'first'), pino({ level: 'silent' }))
  t.teardown(() => server.close())
  const router = `${server.proxyUrl}/nl/jsp/soaprouter.jsp`
  const post = (body: string): ReturnType<typeof send> => send(router, { method: 'POST', headers: { 'content-type': 'text/xml' }, body })
  const logonWith = async (password: string): Promise<string> => outputText((await post(soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', 'etl_operator'], ['password', password], ['parameters', { xml: '' }]] }))).text, 'pstrSessionToken') ?? ''
  const refusedLocally = async (session: string, detail: RegExp, what: string): Promise<void> => {
    const before = s.campaign.requests.length
    const answer = await post(getOption(session))
    t.equal(answer.status, 500, `${what}: refused`)
    t.match(answer.text, PROXY_FAULTS.sessionInvalid.message, `${what}: with the session fault (the client logs on again)`)
    t.match(answer.text, detail, `${what}: saying why`)
    t.equal(s.campaign.requests.length, before, `${what}: nothing reached Campaign`)
  }

  const session = await logonWith('reload-pw-1')
  t.match(session, /^___/, 'a proxy session')
  t.equal((await post(getOption(session))).status, 200, 'it works')
  t.same(await server.reload(configOf(etl(firstHash), 'unchanged')), { ok: true, restartRequired: [], tokensRenewed: false }, 'an unchanged configuration reloads')
  t.equal((await post(getOption(session))).status, 200, 'and the session still works after it')

  t.same(await server.reload(configOf(etl(rotatedHash), 'rotated')), { ok: true, restartRequired: [], tokensRenewed: false }, 'the password hash is rotated')
  await refusedLocally(session, /credentials-changed/, 'a session issued under the old password, after the reload')
  t.equal(await logonWith('reload-pw-1'), '', 'the old password no longer logs on')
  const rotated = await logonWith('reload-pw-2')
  t.equal((await post(getOption(rotated))).status, 200, 'a Logon with the new password works')

  await server.reload(configOf('  - { name: website, networks: [127.0.0.2/32], technicalAccount: marketing }', 'removed'))
  await refusedLocally(rotated, /no longer configured/, 'the integration removed')
  await server.reload(configOf(etl(readdedHash), 're-added'))
  await refusedLocally(rotated, /credentials-changed/, 'the name configured again with another passwordHash')
  t.equal((await post(getOption(await logonWith('reload-pw-3')))).status, 200, 'the integration configured again works with its own password')
})

t.test('watchConfigFile reports a changed file once, not a touched one', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'watch-'))
  const file = join(dir, 'proxy.yaml')
  await writeFile(file, 'a: 1\n')
  let changes = 0
  const watcher = await watchConfigFile(file, () => { changes++ }, 20)
  t.teardown(() => watcher.close())
  await writeFile(join(dir, 'other.txt'), 'unrelated')
  await writeFile(file, 'a: 1\n')
  await writeFile(file, 'a: 2\n')
  await until(() => changes === 1, 'the change')
  await writeFile(join(dir, 'other.txt'), 'still unrelated')
  await new Promise(resolve => setTimeout(resolve, 100)) // a quiet period longer than the debounce: no further change is reported
  t.equal(changes, 1, 'only the content change is reported')
  await writeFile(file, 'a: 3\n')
  await rename(file, join(dir, 'gone.yaml'))
  await new Promise(resolve => setTimeout(resolve, 100))
  t.equal(changes, 1, 'a file that disappeared is not reported as a change')
})
