import { mkdtemp, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { main } from '../../src/commands.js'
import { demoPorts } from '../../src/demo.js'
import { CampaignSimulator } from '../../src/sim/campaign.js'
import { ImsSimulator } from '../../src/sim/ims.js'
import { soapPost } from '../fixtures/http.js'
import { captureIo, waitForOutput } from '../fixtures/io.js'
import { soapEnvelope } from '../fixtures/soap.js'

async function configFile (yaml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'serve-config-'))
  await writeFile(join(dir, 'secret.txt'), 'serve-test-secret\n')
  await writeFile(join(dir, 'proxy.yaml'), yaml)
  return join(dir, 'proxy.yaml')
}

async function busyPort (t: Test): Promise<number> {
  const blocker = createServer()
  await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { blocker.close() })
  return (blocker.address() as { port: number }).port
}

const YAML = (adminPort: string, adminHost = '127.0.0.1'): string => `
listen: { host: 127.0.0.1, port: 0 }
admin: { host: '${adminHost}', port: ${adminPort} }
campaign:
  url: \${CAMPAIGN_URL}
ims:
  tokenUrl: \${IMS_TOKEN_URL}
technicalAccounts:
  main:
    clientId: serve-client
    clientSecret:
      file: secret.txt
    scopes: [AdobeID]
integrations:
  - { name: local-app, networks: [127.0.0.1/32], technicalAccount: main }
`

t.test('demo ports default to the documented ones', async t => {
  t.same(demoPorts([]), { proxy: 8080, mc: 8083, admin: 9464, ims: 8081, campaign: 8082, mcCampaign: 8084 }, 'proxy 8080 (marketing) and 8083 (Message Center), admin 9464, IMS 8081, Campaign marketing 8082 and Message Center 8084')
  t.same(demoPorts(['--mc-port', '0', '--mc-campaign-port', '9']), { proxy: 8080, mc: 0, admin: 9464, ims: 8081, campaign: 8082, mcCampaign: 9 }, 'the Message Center ports have their own flags')
})

t.test('serve and demo usage errors', async t => {
  const cases: [string[], number, RegExp][] = [
    [['serve'], 2, /^campaign-ims-proxy serve: --config FILE is required\n$/],
    [['serve', '--nope'], 2, /^campaign-ims-proxy serve: Unknown option '--nope'/],
    [['demo', '--port', 'http'], 2, /^campaign-ims-proxy demo: --port must be a port number, got 'http'\n$/],
    [['demo', '--mc-port', '65536'], 2, /^campaign-ims-proxy demo: --mc-port must be a port number, got '65536'\n$/],
    [['demo', '--nope'], 2, /^campaign-ims-proxy demo: Unknown option '--nope'/],
  ]
  for (const [argv, code, message] of cases) {
    const io = captureIo()
    t.equal(await main(argv, io), code, `${argv.join(' ')} exits ${code}`)
    t.match(io.err(), message, 'and says why')
  }
  const serveHelp = captureIo()
  t.equal(await main(['serve', '--help'], serveHelp), 0, 'serve --help')
  t.match(serveHelp.out(), /^Usage: campaign-ims-proxy serve --config FILE/, 'prints its usage')
  const demoHelp = captureIo()
  t.equal(await main(['demo', '--help'], demoHelp), 0, 'demo --help')
  t.match(demoHelp.out(), /--campaign-port PORT[^]*--mc-campaign-port PORT/, 'prints its options')
})

t.test('`--config FILE` serves (serve is the default command) until shutdown', async t => {
  const ims = await ImsSimulator.start({ clients: [{ clientId: 'serve-client', secrets: ['serve-test-secret'], scopes: ['AdobeID'] }] })
  const campaign = await CampaignSimulator.start({ authority: ims.authority, strict: true, imsMandatory: true })
  t.teardown(async () => { await Promise.all([ims.close(), campaign.close()]) })
  const io = captureIo({ CAMPAIGN_URL: campaign.url, IMS_TOKEN_URL: ims.tokenUrl })
  const exit = main(['--config', await configFile(YAML('0', '::1'))], io)
  const logs = await waitForOutput(io.out, 'campaign-ims-proxy listening')
  const started = JSON.parse(logs.split('\n').find(l => l.includes('campaign-ims-proxy listening')) ?? '{}') as { proxy: string, admin: string, level: number, service: string }
  t.match(started.admin, /^http:\/\/\[::1\]:\d+$/, 'an IPv6 admin address is written in brackets')
  t.equal((await fetch(`${started.admin}/livez`)).status, 200, 'and answers there')
  t.equal(started.service, 'campaign-ims-proxy', 'JSON log lines on the given stream')
  const call = soapEnvelope({ schema: 'xtk:session', method: 'GetOption', sessionToken: 'mc/mc-password', params: [['name', 'XtkDatabaseId']] })
  let response = await soapPost(`${started.proxy}/nl/jsp/soaprouter.jsp`, call)
  for (let i = 0; i < 100 && response.status === 503; i++) {
    await new Promise(resolve => setTimeout(resolve, 20))
    response = await soapPost(`${started.proxy}/nl/jsp/soaprouter.jsp`, call)
  }
  t.equal(response.status, 200, 'the proxy serves with the secret read from the file')
  io.stop()
  t.equal(await exit, 0, 'exits 0 on shutdown')
  t.match(io.out(), /"msg":"stopped"/, 'after logging that it stopped')
  t.notMatch(io.out(), /serve-test-secret/, 'the secret never appears in the logs')
})

t.test('an invalid configuration: every problem at once, exit 2 (as check)', async t => {
  const io = captureIo({})
  t.equal(await main(['serve', '--config', await configFile(YAML('not-a-port'))], io), 2, 'exit code 2')
  t.match(io.err(), /^campaign-ims-proxy serve: invalid configuration \(.*proxy\.yaml\):\n {2}admin\.port: .*\n {2}campaign\.url: environment variable CAMPAIGN_URL is not set\n {2}ims\.tokenUrl: environment variable IMS_TOKEN_URL is not set\n/, 'names each problem by path')
})

t.test('a listener that cannot bind: exit 1, nothing left running', async t => {
  const port = await busyPort(t)
  const io = captureIo({ CAMPAIGN_URL: 'http://127.0.0.1:9', IMS_TOKEN_URL: 'http://127.0.0.1:9/ims/token/v3' })
  t.equal(await main(['serve', '--config', await configFile(YAML(String(port)))], io), 1, 'exit code 1')
  t.match(io.err(), /EADDRINUSE/, 'says the address is in use')
  const demo = captureIo()
  t.equal(await main(['demo', '--port', String(port), '--mc-port', '0', '--admin-port', '0', '--ims-port', '0', '--campaign-port', '0', '--mc-campaign-port', '0'], demo), 1, 'the demo fails the same way')
  t.match(demo.err(), /EADDRINUSE/, 'and says why')
})
