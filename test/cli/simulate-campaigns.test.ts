// `simulate` with several Campaign instances: `campaigns:` in the file and
// repeatable `--campaign NAME:PORT[:CLIENT,...]`, each instance accepting only
// the tokens of its own IMS clients, as real instances do (product profiles).
import { mkdtemp, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { main } from '../../src/commands.js'
import { CAMPAIGN_FAULTS, CAMPAIGN_SIM_DEFAULTS } from '../../src/sim/campaign.js'
import { DEFAULT_ACCESS, describeSimulators, simulateConfig, startSimulators } from '../../src/sim/simulate.js'
import { UsageError } from '../../src/usage-error.js'
import { soapPost } from '../fixtures/http.js'
import { captureIo, waitForOutput } from '../fixtures/io.js'
import { outputText, soapEnvelope } from '../fixtures/soap.js'

async function yamlFile (text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sim-campaigns-'))
  const path = join(dir, 'simulate.yaml')
  await writeFile(path, text)
  return path
}

const getOption = soapEnvelope({ schema: 'xtk:session', method: 'GetOption', sessionToken: '', params: [['name', 'XtkDatabaseId']] })

async function token (tokenUrl: string, clientId: string, secret: string): Promise<string> {
  const response = await fetch(tokenUrl, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope: 'AdobeID,campaign_sdk' }),
  })
  return ((await response.json()) as { access_token: string }).access_token
}

t.test('campaigns: from the file, each inheriting campaign:, with flags overriding a port and its clients and adding instances', async t => {
  const path = await yamlFile(`
ims:
  clients:
    - { clientId: mkt, secrets: [mkt-secret] }
    - { clientId: mc, secrets: [mc-secret] }
campaign:
  strict: true
  operators: [{ login: shared, password: pw }]
campaigns:
  marketing:
    port: 18082
    allowedClients: [mkt]
  messageCenter:
    port: 18084
    imsMandatory: false
    faultStatus: 200
    operators: [{ login: mc, password: mc-password, technical: true }]
`)
  const config = await simulateConfig(['--config', path, '--campaign', 'messageCenter:0:mc,mkt', '--campaign', 'extra:0', '--no-allow-user-password'])
  t.same(config.campaigns, [
    { name: 'marketing', port: 18082, imsMandatory: true, allowUserPassword: false, strict: true, faultStatus: 500, operators: [{ login: 'shared', password: 'pw', technical: false }], access: DEFAULT_ACCESS, allowedClients: ['mkt'] },
    { name: 'messageCenter', port: 0, imsMandatory: false, allowUserPassword: false, strict: true, faultStatus: 200, operators: [{ login: 'mc', password: 'mc-password', technical: true }], access: DEFAULT_ACCESS, allowedClients: ['mc', 'mkt'] },
    { name: 'extra', port: 0, imsMandatory: true, allowUserPassword: false, strict: true, faultStatus: 500, operators: [{ login: 'shared', password: 'pw', technical: false }], access: DEFAULT_ACCESS },
  ], 'file order then flag-only instances; campaign: and flags are every instance\'s defaults, an instance\'s own keys win, a flag sets its port and clients')
  t.equal((await simulateConfig([])).campaigns, undefined, 'without either, the single instance')
})

t.test('every problem of several instances at once, by path', async t => {
  const path = await yamlFile(`
campaign: { port: 8082 }
campaigns:
  1bad: { port: 1 }
  notAMapping: 3
  noPort: {}
  badKeys: { port: 70000, strict: maybe, faultStatus: 302, operators: 3, allowedClients: [] }
  stranger: { port: 0, allowedClients: [nobody] }
`)
  const error = await simulateConfig(['--config', path, '--campaign', 'x', '--campaign', 'y:0:', '--campaign', 'z:1:a:b']).catch((err: unknown) => err)
  t.type(error, UsageError, 'a usage error')
  t.equal((error as Error).message, [
    'invalid simulator configuration:',
    '  --campaign x: expected NAME:PORT or NAME:PORT:CLIENT,CLIENT (a name of letters, digits, _ and -, starting with a letter)',
    '  --campaign x: the port: must be an integer from 0 to 65535, got undefined',
    '  --campaign y:0:: expected NAME:PORT or NAME:PORT:CLIENT,CLIENT (a name of letters, digits, _ and -, starting with a letter)',
    '  --campaign z:1:a:b: expected NAME:PORT or NAME:PORT:CLIENT,CLIENT (a name of letters, digits, _ and -, starting with a letter)',
    '  campaigns.1bad: an instance name starts with a letter and holds at most 64 letters, digits, _ and -',
    '  campaigns.notAMapping: must be a mapping',
    '  campaigns.notAMapping.port: required',
    '  campaigns.noPort.port: required',
    '  campaigns.badKeys.allowedClients: must be a non-empty list of strings',
    '  campaigns.badKeys.port: must be an integer from 0 to 65535, got 70000',
    '  campaigns.badKeys.strict: must be true or false',
    '  campaigns.badKeys.faultStatus: must be 200 or 500, got 302',
    '  campaigns.badKeys.operators: must be a list',
    "  campaign.port: a single instance's port; with several instances, give each its own port (campaigns.<name>.port, --campaign NAME:PORT)",
    "  campaigns.stranger.allowedClients: 'nobody' is not a registered IMS client",
    "  campaigns.y.allowedClients: '' is not a registered IMS client",
    "  campaigns.z.allowedClients: 'a' is not a registered IMS client",
  ].join('\n'), 'flags, then instances in order, then the single port, then unknown clients')
  const list = await yamlFile('campaigns: [a, b]\n')
  await t.rejects(simulateConfig(['--config', list]), { message: 'invalid simulator configuration:\n  campaigns: must be a mapping of instance name to settings' }, 'campaigns that is not a mapping')
  await t.rejects(simulateConfig(['--campaign', 'a:0', '--campaign-port', '0']), { message: /campaign\.port: a single instance's port/ }, '--campaign-port with named instances')
})

t.test('main simulate with two instances: each listens on its printed URL and accepts only its own client\'s tokens', async t => {
  const io = captureIo()
  const exit = main(['simulate', '--ims-port', '0', '--client', 'mkt:mkt-secret', '--client', 'mc:mc-secret', '--campaign', 'marketing:0:mkt', '--campaign', 'messageCenter:0:mc'], io)
  const out = await waitForOutput(io.out, 'Campaign simulator messageCenter')
  const tokenUrl = /IMS simulator\s+(\S+)/.exec(out)?.[1] ?? ''
  const urls = { marketing: /Campaign simulator marketing\s+(\S+)/.exec(io.out())?.[1] ?? '', messageCenter: /Campaign simulator messageCenter\s+(\S+)/.exec(io.out())?.[1] ?? '' }
  t.match(io.out(), /Campaign simulator marketing {2}http:\/\/127\.0\.0\.1:\d+ {2}\(imsMandatory=true[^)]*\)\n {2}accepts tokens of: mkt\n/, 'marketing is printed with the client it accepts')
  t.match(io.out(), /Campaign simulator messageCenter {2}http:\/\/127\.0\.0\.1:\d+ {2}\([^)]*\)\n {2}accepts tokens of: mc\n/, 'and Message Center with its own')
  t.not(urls.marketing, urls.messageCenter, 'two instances on two ports')
  const tokens = { mkt: await token(tokenUrl, 'mkt', 'mkt-secret'), mc: await token(tokenUrl, 'mc', 'mc-secret') }
  const call = async (url: string, bearer: string): Promise<{ status: number, text: string }> =>
    await soapPost(`${url}/nl/jsp/soaprouter.jsp`, getOption, { authorization: `Bearer ${bearer}` }, 'xtk:session#GetOption')

  const own = [await call(urls.marketing, tokens.mkt), await call(urls.messageCenter, tokens.mc)]
  t.same(own.map(r => [r.status, outputText(r.text, 'pstrValue')]), [[200, CAMPAIGN_SIM_DEFAULTS.databaseId], [200, CAMPAIGN_SIM_DEFAULTS.databaseId]], 'each instance answers its own client\'s token')
  const foreign = [await call(urls.marketing, tokens.mc), await call(urls.messageCenter, tokens.mkt)]
  for (const response of foreign) {
    t.equal(response.status, 500, 'the other instance\'s token is faulted')
    t.match(response.text, CAMPAIGN_FAULTS.unableToLogon, `with ${CAMPAIGN_FAULTS.unableToLogon}`)
  }
  const instances = await Promise.all([urls.marketing, urls.messageCenter].map(async url => /instance='([^']+)'/.exec(await (await fetch(`${url}/r/test`)).text())?.[1]))
  t.same(instances, ['marketing', 'messageCenter'], 'each instance is named after its configuration name')
  io.stop()
  t.equal(await exit, 0, 'exits 0 on shutdown')
  await t.rejects(fetch(`${urls.messageCenter}/r/test`), 'and no instance listens any more')
})

t.test('startSimulators: what each instance recorded; a later instance that cannot listen is a runtime error', async t => {
  const config = await simulateConfig(['--ims-port', '0', '--client', 'a:a-secret', '--client', 'b:b-secret', '--campaign', 'first:0:a', '--campaign', 'second:0:b'])
  const running = await startSimulators(config)
  t.teardown(() => running.close())
  const first = running.campaigns.get('first')
  const second = running.campaigns.get('second')
  t.equal(running.campaign, first, 'campaign is the first instance')
  const bearer = await token(running.ims.tokenUrl, 'b', 'b-secret')
  const response = await soapPost(`${second?.url ?? ''}/nl/jsp/soaprouter.jsp`, getOption, { authorization: `Bearer ${bearer}` }, 'xtk:session#GetOption')
  t.equal(response.status, 200, 'the second instance accepts its client')
  t.same([first?.requests.length, second?.requests.map(r => r.soapMethod)], [0, ['xtk:session#GetOption']], 'only the second instance recorded the call')
  t.match(describeSimulators(config, running), new RegExp(`Campaign simulator first {2}${first?.url ?? ''} .*\\n {2}accepts tokens of: a\\n[^]*Campaign simulator second {2}${second?.url ?? ''} `), 'each instance described with its URL')

  const blocker = createServer()
  await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { blocker.close() })
  const busy = (blocker.address() as { port: number }).port
  const io = captureIo()
  t.equal(await main(['simulate', '--ims-port', '0', '--campaign', 'ok:0', '--campaign', `busy:${busy}`], io), 1, 'exit code 1 when the second instance cannot listen')
  t.match(io.err(), /EADDRINUSE/, 'says the address is in use')
})
