// The demo's two instances: the printed commands, run as printed against a
// demo started in this process on free ports, reach the marketing simulator
// through the main listener with the marketing account's bearer, and the
// Message Center simulator through its own listener with its account's bearer.
import { execFile } from 'node:child_process'
import { mkdtemp, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { DEMO_ACCOUNTS, demoInstructions, startDemo } from '../src/demo.js'
import { createLogger } from '../src/observability/logger.js'
import type { CampaignSimulator, RecordedRequest } from '../src/sim/campaign.js'

const run = promisify(execFile)
const ROUTER = '/nl/jsp/soaprouter.jsp'

/** The IMS client a recorded request's bearer was issued to (the token's JWT claims). */
function bearerClient (recorded: RecordedRequest): string | undefined {
  const bearer = /^Bearer (.+)$/.exec(String(recorded.headers.authorization))?.[1]
  if (bearer === undefined) return undefined
  return (JSON.parse(Buffer.from(bearer.split('.')[1] as string, 'base64url').toString('utf8')) as { client_id: string }).client_id
}

/** The SOAP calls a simulator answered, as `method client`. */
const calls = (sim: CampaignSimulator): string[] => sim.requests.filter(r => r.url.split('?')[0] === ROUTER).map(r => `${String(r.soapMethod)} ${String(bearerClient(r))}`)

t.test('each printed command reaches its own instance with its own account\'s token, and only that instance', async t => {
  const demo = await startDemo({ proxy: 0, mc: 0, admin: 0, ims: 0, campaign: 0, mcCampaign: 0 }, createLogger('silent'))
  t.teardown(() => demo.close())
  const marketing = demo.sims.campaigns.get('marketing') as CampaignSimulator
  const messageCenter = demo.sims.campaigns.get('messageCenter') as CampaignSimulator
  const text = demoInstructions(demo.server, demo.sims, demo.configFile)
  const mcListener = demo.server.campaignListenerUrls.get('messageCenter') as string
  t.not(mcListener, demo.server.proxyUrl, 'Message Center has a listener of its own')
  t.match(text, `proxy, Message Center        ${mcListener} `, 'whose URL is printed')

  const curls = text.split('\n').filter(line => line.startsWith('curl '))
  t.same(curls.map(c => c.split(' ')[2]), [`${demo.server.proxyUrl}${ROUTER}`, `${mcListener}${ROUTER}`, `${demo.server.proxyUrl}${ROUTER}`], 'the marketing curl targets the main listener, the Message Center one its own listener, the refused Write the main listener')
  const option = await run('sh', ['-c', curls[0] as string])
  t.match(option.stdout, /<pstrValue xsi:type='xsd:string'>uD5A3F1B7C2E94A0F8B6D1E3C5A7F9B2D4E6C8A0B<\/pstrValue>/, 'the marketing curl is answered')
  t.same([calls(marketing), calls(messageCenter)], [[`xtk:session#GetOption ${DEMO_ACCOUNTS.marketing.clientId}`], []],
    'it reached marketing only, with the marketing account\'s bearer')
  const pushed = await run('sh', ['-c', curls[1] as string])
  t.match(pushed.stdout, /<plId xsi:type='xsd:long'>73000001<\/plId>/, 'the Message Center curl is answered')
  t.same([calls(marketing), calls(messageCenter)], [[`xtk:session#GetOption ${DEMO_ACCOUNTS.marketing.clientId}`], [`nms:rtEvent#PushEvent ${DEMO_ACCOUNTS.messageCenter.clientId}`]],
    'it reached Message Center only, with the Message Center account\'s bearer')
  const written = await run('sh', ['-c', curls[2] as string])
  t.match(written.stdout, /HTTP 403\n$/, 'the Write outside allowedMethods is refused')
  t.equal(calls(marketing).length + calls(messageCenter).length, 2, 'and reached neither instance')
  t.same(messageCenter.events.map(e => [e.type, e.operator]), [['welcome', `${DEMO_ACCOUNTS.messageCenter.clientId.replace(/[^a-z0-9]/g, '')}@techacct.adobe.com`]], 'the event was pushed by the Message Center technical account')

  const lines = text.split('\n')
  const start = lines.findIndex(l => l.startsWith('import sdk'))
  const dir = await mkdtemp(join(tmpdir(), 'demo-instances-'))
  await symlink(fileURLToPath(new URL('../node_modules', import.meta.url)), join(dir, 'node_modules'))
  await writeFile(join(dir, 'demo.mjs'), lines.slice(start, lines.findIndex((l, i) => i > start && l === '')).join('\n'))
  marketing.clearRequests()
  messageCenter.clearRequests()
  const sdkRun = await run(process.execPath, [join(dir, 'demo.mjs')])
  t.equal(sdkRun.stdout, 'marketing database uD5A3F1B7C2E94A0F8B6D1E3C5A7F9B2D4E6C8A0B\nevent id 73000002\n', 'the acc-js-sdk snippet works as printed')
  t.same([calls(marketing), calls(messageCenter)], [
    [`xtk:persist#GetEntityIfMoreRecent ${DEMO_ACCOUNTS.marketing.clientId}`, `xtk:session#GetOption ${DEMO_ACCOUNTS.marketing.clientId}`],
    [`xtk:persist#GetEntityIfMoreRecent ${DEMO_ACCOUNTS.messageCenter.clientId}`, `nms:rtEvent#PushEvent ${DEMO_ACCOUNTS.messageCenter.clientId}`],
  ], 'its schema look-up and option read went to marketing, its schema look-up and event to Message Center, each with its own account\'s bearer')
})

t.test('each simulated instance refuses the other account\'s token', async t => {
  const demo = await startDemo({ proxy: 0, mc: 0, admin: 0, ims: 0, campaign: 0, mcCampaign: 0 }, createLogger('silent'))
  t.teardown(() => demo.close())
  const token = async (a: { clientId: string, secret: string }): Promise<string> => {
    const response = await fetch(demo.sims.ims.tokenUrl, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: a.clientId, client_secret: a.secret, scope: 'AdobeID,campaign_sdk' }) })
    return ((await response.json()) as { access_token: string }).access_token
  }
  const body = '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:xtk:session"><soapenv:Body><urn:GetOption><urn:sessiontoken/><urn:name>XtkDatabaseId</urn:name></urn:GetOption></soapenv:Body></soapenv:Envelope>'
  const call = async (sim: string, bearer: string): Promise<string> => {
    const response = await fetch(`${(demo.sims.campaigns.get(sim) as CampaignSimulator).url}${ROUTER}`, {
      method: 'POST', body, headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: 'xtk:session#GetOption', authorization: `Bearer ${bearer}` },
    })
    return `${response.status} ${/XSV-350022/.test(await response.text()) ? 'XSV-350022' : 'ok'}`
  }
  const [mkt, mc] = [await token(DEMO_ACCOUNTS.marketing), await token(DEMO_ACCOUNTS.messageCenter)]
  t.same([await call('marketing', mc), await call('messageCenter', mkt)], ['500 XSV-350022', '500 XSV-350022'], 'the other account\'s token is refused by each')
  t.same([await call('marketing', mkt), await call('messageCenter', mc)], ['200 ok', '200 ok'], 'its own is accepted')
})
