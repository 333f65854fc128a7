// The demo's audit-rights command (docs/audit-rights.md, docs/simulators.md):
// the printed command line, run as printed in this process against a demo
// on free ports, audits the seeded legacy operator mc on the Message Center
// instance; --apply grants its folder permissions; the file goes with close().
import { access, readFile, stat } from 'node:fs/promises'
import t from 'tap'
import { AUDIT_EXIT } from '../src/audit-rights.js'
import { main } from '../src/commands.js'
import { DEMO_ACCOUNTS, demoInstructions, startDemo } from '../src/demo.js'
import { createLogger } from '../src/observability/logger.js'
import type { CampaignSimulator } from '../src/sim/campaign.js'
import { captureIo } from './fixtures/io.js'

t.test('the printed audit-rights command works against the demo', async t => {
  const demo = await startDemo({ proxy: 0, mc: 0, admin: 0, ims: 0, campaign: 0, mcCampaign: 0 }, createLogger('silent'))
  let closed = false
  t.teardown(async () => { if (!closed) await demo.close() })
  const text = demoInstructions(demo.server, demo.sims, demo.configFile)
  const lines = text.split('\n').filter(line => line.startsWith('campaign-ims-proxy audit-rights '))
  t.equal(lines.length, 1, 'one audit-rights command line is printed')
  const args = (lines[0] as string).split(' ').slice(1)
  t.same(args.slice(0, 3), ['audit-rights', '--config', demo.configFile], 'with the demo\'s configuration file')
  t.equal((await stat(demo.configFile)).mode & 0o777, 0o600, 'which only its owner can read')
  t.match(await readFile(demo.configFile, 'utf8'), `clientId: ${DEMO_ACCOUNTS.messageCenter.clientId}`, 'and holds the demo\'s accounts')

  const run = async (extra: string[] = []): Promise<{ code: number, out: string }> => {
    const io = captureIo()
    const code = await main([...args, ...extra], io)
    return { code, out: io.out() + io.err() }
  }
  const dry = await run()
  t.equal(dry.code, AUDIT_EXIT.missing, 'exit 7: the technical operator lacks the legacy operator\'s rights')
  t.match(dry.out, /^folder +\/Message Center\/Real-time events\/ +read\|write\|delete \(propagate\) +- +read\|write\|delete \+ propagate$/m, 'the first folder')
  t.match(dry.out, /^folder +\/Message Center\/Transactional message templates\/ +read\|write +- +read\|write$/m, 'the second')
  t.match(dry.out, /^named right +messageCenter +granted +- +messageCenter$/m, 'the named right')
  t.match(dry.out, /^ {2}mc +messageCenterAgents$/m, 'mc\'s group')

  const applied = await run(['--apply', '--yes'])
  t.equal(applied.code, AUDIT_EXIT.missing, '--apply: exit 7, the named right is not written')
  const messageCenter = demo.sims.campaigns.get('messageCenter') as CampaignSimulator
  const technical = `${DEMO_ACCOUNTS.messageCenter.clientId.replace(/[^a-z0-9]/g, '')}@techacct.adobe.com`
  t.same(messageCenter.access.folderPermissions(technical).map(p => [p.fullName, p.rights.join('|'), p.propagate]), [
    ['/Message Center/Real-time events/', 'read|write|delete', true],
    ['/Message Center/Transactional message templates/', 'read|write', false],
  ], 'the Message Center simulator holds both permissions for the technical account\'s operator')
  t.notMatch((await run()).out, /^folder /m, 'a second audit finds no folder permission missing')

  await demo.close()
  closed = true
  await t.rejects(access(demo.configFile), { code: 'ENOENT' }, 'close removes the configuration file')
})
