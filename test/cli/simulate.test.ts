import { mkdtemp, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { main } from '../../src/commands.js'
import { describeSimulators, simulateConfig, SIMULATE_DEFAULTS, type RunningSimulators } from '../../src/sim/simulate.js'
import { UsageError } from '../../src/usage-error.js'
import { captureIo, waitForOutput } from '../fixtures/io.js'

async function yamlFile (text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sim-config-'))
  const path = join(dir, 'simulate.yaml')
  await writeFile(path, text)
  return path
}

t.test('defaults: v8.6 behaviour, the demo client, the default operators', async t => {
  const config = await simulateConfig([])
  t.equal(config.host, '127.0.0.1', 'loopback by default')
  t.same([config.ims.port, config.campaign.port], [SIMULATE_DEFAULTS.imsPort, SIMULATE_DEFAULTS.campaignPort], 'default ports')
  t.same(config.ims.clients.map(c => [c.clientId, c.secrets]), [['demo-client-id', ['demo-client-secret']]], 'one demo client')
  t.same([config.campaign.imsMandatory, config.campaign.allowUserPassword, config.campaign.strict, config.campaign.faultStatus], [true, true, false, 500], 'IMS mandatory, inline passwords allowed, not strict, faults as 500')
  t.same(config.campaign.operators.map(o => o.login), ['admin', 'mc', 'crm_operator'], 'default operators')
})

t.test('the YAML file is read and flags override it', async t => {
  const path = await yamlFile(`
host: 127.0.0.1
ims:
  port: 18081
  expiresInSeconds: 600
  clients:
    - clientId: etl
      secrets: [one, two]
      scopes: [AdobeID, campaign_sdk]
campaign:
  port: 18082
  imsMandatory: false
  strict: true
  faultStatus: 200
  operators:
    - { login: etl_operator, password: pw, technical: true, rights: [admin] }
    - { login: viewer }
`)
  const config = await simulateConfig(['--config', path, '--campaign-port', '0', '--client', 'extra:secret', '--no-allow-user-password'])
  t.equal(config.ims.port, 18081, 'port from the file')
  t.equal(config.campaign.port, 0, 'port from the flag wins')
  t.equal(config.ims.expiresInSeconds, 600, 'token lifetime from the file')
  t.same(config.ims.clients, [
    { clientId: 'etl', secrets: ['one', 'two'], scopes: ['AdobeID', 'campaign_sdk'] },
    { clientId: 'extra', secrets: ['secret'], scopes: [...SIMULATE_DEFAULTS.scopes] },
  ], 'clients from the file then from flags')
  t.same([config.campaign.imsMandatory, config.campaign.allowUserPassword, config.campaign.strict, config.campaign.faultStatus], [false, false, true, 200], 'switches from file and flags')
  t.same(config.campaign.operators, [
    { login: 'etl_operator', password: 'pw', technical: true, rights: ['admin'] },
    { login: 'viewer', technical: false },
  ], 'operators from the file')
})

t.test('every problem is reported at once, with its path', async t => {
  const path = await yamlFile(`
host: ''
ims:
  port: 70000
  clients:
    - clientId: x
      secrets: []
    - nope
campaign:
  imsMandatory: maybe
  faultStatus: 404
  operators:
    - { login: 3, password: 4, technical: 1, rights: x }
    - 7
`)
  const error = await simulateConfig(['--config', path, '--client', 'nocolon', '--expires-in', '0']).catch((err: unknown) => err)
  t.type(error, UsageError, 'a usage error')
  t.equal((error as Error).message, [
    'invalid simulator configuration:',
    '  --client nocolon: expected ID:SECRET',
    '  host: must be a non-empty string',
    '  ims.port: must be an integer from 0 to 65535, got 70000',
    '  ims.expiresInSeconds: must be an integer from 1 to 31622400, got "0"',
    '  ims.clients[0].secrets: must be a non-empty list of strings',
    '  ims.clients[1]: must be a mapping',
    '  ims.clients[1].clientId: must be a non-empty string',
    '  ims.clients[1].secrets: must be a non-empty list of strings',
    '  campaign.imsMandatory: must be true or false',
    '  campaign.faultStatus: must be 200 or 500, got 404',
    '  campaign.operators[0].login: must be a non-empty string',
    '  campaign.operators[0].password: must be a non-empty string',
    '  campaign.operators[0].technical: must be true or false',
    '  campaign.operators[0].rights: must be a non-empty list of strings',
    '  campaign.operators[1]: must be a mapping',
    '  campaign.operators[1].login: must be a non-empty string',
  ].join('\n'), 'all problems, in order, named by path')
})

t.test('file-level errors', async t => {
  await t.rejects(simulateConfig(['--config', '/nonexistent/simulate.yaml']), { message: 'cannot read /nonexistent/simulate.yaml: ENOENT' }, 'missing file')
  const bad = await yamlFile('ims: [unclosed')
  await t.rejects(simulateConfig(['--config', bad]), { message: new RegExp(`^${bad} is not valid YAML: `) }, 'invalid YAML')
  const list = await yamlFile('- a\n- b\n')
  await t.rejects(simulateConfig(['--config', list]), { message: `${list}: the top level must be a mapping` }, 'a list at the top level')
  const sections = await yamlFile('ims: 3\ncampaign: [1]\n')
  await t.rejects(simulateConfig(['--config', sections]), { message: 'invalid simulator configuration:\n  ims: must be a mapping\n  campaign: must be a mapping' }, 'sections that are not mappings')
  const clients = await yamlFile('ims: { clients: 3 }\ncampaign: { operators: 3 }\n')
  await t.rejects(simulateConfig(['--config', clients]), { message: 'invalid simulator configuration:\n  ims.clients: must be a list\n  campaign.operators: must be a list' }, 'lists that are not lists')
  const empty = await yamlFile('')
  t.equal((await simulateConfig(['--config', empty])).host, '127.0.0.1', 'an empty file means all defaults')
  await t.rejects(simulateConfig(['--bogus']), UsageError, 'an unknown flag')
})

t.test('main: help, unknown command, usage errors', async t => {
  const help = captureIo()
  t.equal(await main([], help), 0, 'no command prints help')
  t.match(help.out(), /^Usage: campaign-ims-proxy <command>/, 'the usage text')
  const flag = captureIo()
  t.equal(await main(['--help'], flag), 0, '--help too')
  t.equal(flag.out(), help.out(), 'the same text')
  const simHelp = captureIo()
  t.equal(await main(['simulate', '--help'], simHelp), 0, 'simulate --help')
  t.match(simHelp.out(), /--no-ims-mandatory/, 'documents the switches')
  const unknown = captureIo()
  t.equal(await main(['frobnicate'], unknown), 2, 'an unknown command exits 2')
  t.match(unknown.err(), /^campaign-ims-proxy: unknown command 'frobnicate'/, 'and says so')
  const usage = captureIo()
  t.equal(await main(['simulate', '--fault-status', '302'], usage), 2, 'a bad option exits 2')
  t.equal(usage.err(), 'campaign-ims-proxy simulate: invalid simulator configuration:\n  campaign.faultStatus: must be 200 or 500, got "302"\n', 'naming the problem')
})

t.test('main simulate: serves until shutdown, on the printed URLs', async t => {
  const io = captureIo()
  const exit = main(['simulate', '--ims-port', '0', '--campaign-port', '0', '--strict'], io)
  const out = await waitForOutput(io.out, 'operators:')
  const tokenUrl = /IMS simulator\s+(\S+)/.exec(out)?.[1] ?? ''
  const campaignUrl = /Campaign simulator\s+(\S+)/.exec(out)?.[1] ?? ''
  t.match(out, /imsMandatory=true allowUserPassword=true strict=true faultStatus=500/, 'prints the switches')
  t.match(out, /demo-client-id {2}secrets: demo-client-secret/, 'prints the demo credentials')
  const token = await fetch(tokenUrl, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'demo-client-id', client_secret: 'demo-client-secret', scope: 'AdobeID,campaign_sdk' }),
  })
  t.equal(token.status, 200, 'the IMS simulator issues a token for the demo client')
  const redir = await fetch(`${campaignUrl}/r/test`)
  t.match(await redir.text(), /^<redir status='OK'/, 'the Campaign simulator answers /r/test')
  io.stop()
  t.equal(await exit, 0, 'exits 0 on shutdown')
  await t.rejects(fetch(`${campaignUrl}/r/test`), 'and no longer listens')
})

t.test('main simulate: a port in use is a runtime error', async t => {
  const blocker = createServer()
  await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { blocker.close() })
  const port = (blocker.address() as { port: number }).port
  const imsBusy = captureIo()
  t.equal(await main(['simulate', '--ims-port', String(port), '--campaign-port', '0'], imsBusy), 1, 'exit code 1')
  t.match(imsBusy.err(), /EADDRINUSE/, 'says the address is in use')
  const campaignBusy = captureIo()
  t.equal(await main(['simulate', '--ims-port', '0', '--campaign-port', String(port)], campaignBusy), 1, 'exit code 1 when Campaign cannot listen')
  t.match(campaignBusy.err(), /EADDRINUSE/, 'says the address is in use')
})

t.test('--no-ims-mandatory, and the description of operators without a password', async t => {
  const config = await simulateConfig(['--no-ims-mandatory'])
  t.equal(config.campaign.imsMandatory, false, 'the flag lets technical operators log on natively')
  const withViewer = { ...config, campaign: { ...config.campaign, operators: [{ login: 'viewer' }, { login: 'etl', password: 'pw', technical: true }] } }
  const text = describeSimulators(withViewer, { ims: { tokenUrl: 'http://ims.test/ims/token/v3' }, campaign: { url: 'http://campaign.test' } } as unknown as RunningSimulators)
  t.match(text, /operators:\n {4}viewer\n {4}etl\/pw \(technical operator\)\n {2}mc has folder permissions and a named right of its own: try audit-rights --operator mc\n$/,
    'an operator without a password is listed by login only; the seeded legacy operator is named for audit-rights')
  const { access: _seeded, ...unseeded } = withViewer.campaign
  const plain = describeSimulators({ ...withViewer, campaign: unseeded }, { ims: { tokenUrl: 'http://ims.test/ims/token/v3' }, campaign: { url: 'http://campaign.test' } } as unknown as RunningSimulators)
  t.match(plain, /\(technical operator\)\n$/, 'without a seed, no such line')
})
