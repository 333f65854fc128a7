// Acceptance (migration step 4, docs/audit-rights.md): `audit-rights`
// against the simulators compares the legacy operator's own folder
// permissions and named rights with the technical account's operator,
// writes the missing folder permissions with --apply, and a second audit
// finds no folder permission missing.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { AUDIT_EXIT } from '../../src/audit-rights.js'
import { main } from '../../src/commands.js'
import type { PasswordInput } from '../../src/hash-password-command.js'
import { CampaignSimulator, type CampaignSimulatorOptions } from '../../src/sim/campaign.js'
import type { AccessSeed } from '../../src/sim/campaign-rights.js'
import { ImsSimulator } from '../../src/sim/ims.js'
import { soapFault } from '../../src/soap/envelope.js'
import { Clock } from '../fixtures/campaign-sims.js'
import { tempDir } from '../fixtures/config.js'
import { captureIo } from '../fixtures/io.js'
import { ACCOUNTS } from '../fixtures/proxy-stack.js'

/** The operator Campaign creates for the marketing account (the simulator's Technical Account Email). */
const TECHNICAL = 'marketingclient@techacct.adobe.com'
const WRITE = 'xtk:session#Write'
const QUERY = 'xtk:queryDef#ExecuteQuery'

/** A legacy operator with direct rights on 2 folders and 1 named right, in a group; a third folder it has no right on. */
const SEED: AccessSeed = {
  operators: [{ login: 'etl_operator', password: 'etl-password', technical: true, label: 'Nightly ETL', rights: ['exportData'] }],
  groups: [{ name: 'etlGroup', label: 'ETL', rights: ['import'] }],
  folders: [
    { name: 'configuration', fullName: '/Administration/Configuration/' },
    { name: 'recipients', fullName: '/Profiles and Targets/Recipients/' },
    { name: 'deliveries', fullName: '/Campaign Management/Deliveries/' },
  ],
  memberships: [{ operator: 'etl_operator', group: 'etlGroup' }],
  folderPermissions: [
    { folder: 'configuration', operator: 'etl_operator', rights: ['read', 'write'], propagate: true },
    { folder: 'recipients', operator: 'etl_operator', rights: ['read', 'write', 'delete'] },
    { folder: 'deliveries', operator: 'etlGroup', rights: ['read'] },
  ],
}

interface Setup {
  readonly ims: ImsSimulator
  readonly campaign: CampaignSimulator
  readonly clock: Clock
  readonly file: string
  readonly dir: string
}

async function setup (t: Test, options: CampaignSimulatorOptions = {}, config: { secret?: string, extra?: string, campaigns?: (url: string) => string } = {}): Promise<Setup> {
  const clock = new Clock()
  const ims = await ImsSimulator.start({ clients: Object.values(ACCOUNTS), now: clock.now })
  const campaign = await CampaignSimulator.start({ authority: ims.authority, now: clock.now, imsMandatory: true, access: SEED, ...options })
  t.teardown(async () => { await Promise.all([ims.close(), campaign.close()]) })
  const dir = await tempDir(t)
  const file = join(dir, 'proxy.yaml')
  await writeFile(file, `
${config.campaigns?.(campaign.url) ?? `campaign: { url: '${campaign.url}', timeoutSeconds: 5, connectTimeoutSeconds: 2 }`}
ims: { tokenUrl: '${ims.tokenUrl}', timeoutSeconds: 5 }
technicalAccounts:
  marketing: { clientId: marketing-client, clientSecret: ${config.secret ?? 'marketing-secret'}, scopes: [AdobeID, openid, campaign_sdk] }
  events: { clientId: events-client, clientSecret: events-secret, scopes: [AdobeID, openid, campaign_sdk] }
${config.extra ?? ''}
`)
  return { ims, campaign, clock, file, dir }
}

interface Run { readonly code: number, readonly out: string, readonly err: string }

async function audit (s: Setup, args: readonly string[] = [], stdin?: PasswordInput): Promise<Run> {
  const io = { ...captureIo(), ...(stdin === undefined ? {} : { stdin }) }
  const code = await main(['audit-rights', '--config', s.file, '--operator', 'etl_operator', '--account', 'marketing', ...args], io)
  return { code, out: io.out(), err: io.err() }
}

/** Standard input as a terminal on which `typed` is typed. */
function terminal (typed: string): PasswordInput {
  return { isTTY: true, async * [Symbol.asyncIterator] () { yield Buffer.from(typed) } }
}

const writes = (s: Setup): number => s.campaign.requests.filter(r => r.soapMethod === WRITE).length

t.test('acceptance: exit 7 naming both folders and the right; --json; --apply --yes writes the 2 permissions; a second audit finds no folder permission missing', async t => {
  const s = await setup(t)
  const dry = await audit(s)
  t.equal(dry.code, AUDIT_EXIT.missing, 'exit 7: something is missing')
  t.match(dry.out, `  legacy operator     etl_operator (id 1062, "Nightly ETL")\n  technical operator  ${TECHNICAL} (id 1063, "Technical account marketing-client"): created by this call (Campaign creates it on the technical account's first call)`,
    'both operators; the technical one did not exist before (Campaign created it on GetUserInfo)')
  t.match(dry.out, /^folder +\/Administration\/Configuration\/ +read\|write \(propagate\) +- +read\|write \+ propagate$/m, 'the first folder, its rights and propagation')
  t.match(dry.out, /^folder +\/Profiles and Targets\/Recipients\/ +read\|write\|delete +- +read\|write\|delete$/m, 'the second folder')
  t.match(dry.out, /^named right +exportData +granted +- +exportData$/m, 'the named right')
  t.notMatch(dry.out, /Deliveries/, 'a folder granted to the group only is not the operator\'s own')
  t.match(dry.out, /^ {2}etl_operator +etlGroup$/m, 'the legacy operator\'s groups, for information')
  t.match(dry.out, new RegExp(`^  ${TECHNICAL.replace(/\./g, '\\.')} +\\(none\\)$`, 'm'), 'and the technical operator\'s')
  t.match(dry.out, 'audit-rights: 2 folder permissions and 1 named right missing (exit 7); --apply writes the folder permissions; named rights are granted through product profiles', 'the verdict')
  t.equal(writes(s), 0, 'a dry run writes nothing')
  t.notMatch(dry.out + dry.err, /marketing-secret|eyJ/, 'neither the client secret nor the token is printed')

  s.clock.advance(60_000)
  const json = await audit(s, ['--json'])
  t.equal(json.code, AUDIT_EXIT.missing, '--json: exit 7 too')
  const doc = JSON.parse(json.out) as Record<string, unknown>
  t.same(doc, {
    version: 1,
    campaign: 'default',
    account: 'marketing',
    legacyOperator: {
      name: 'etl_operator',
      id: '1062',
      label: 'Nightly ETL',
      namedRights: ['exportData'],
      groups: ['etlGroup'],
      folderPermissions: [
        { folder: 'configuration', fullName: '/Administration/Configuration/', rights: ['read', 'write'], propagate: true },
        { folder: 'recipients', fullName: '/Profiles and Targets/Recipients/', rights: ['read', 'write', 'delete'], propagate: false },
      ],
    },
    technicalOperator: { name: TECHNICAL, id: '1063', label: 'Technical account marketing-client', namedRights: ['admin'], groups: [], folderPermissions: [], createdByThisRun: false },
    missing: {
      folderPermissions: [
        { folder: 'configuration', fullName: '/Administration/Configuration/', rights: ['read', 'write'], propagate: true, legacyRights: ['read', 'write'], technicalRights: [], grant: { rights: ['read', 'write'], propagate: true } },
        { folder: 'recipients', fullName: '/Profiles and Targets/Recipients/', rights: ['read', 'write', 'delete'], propagate: false, legacyRights: ['read', 'write', 'delete'], technicalRights: [], grant: { rights: ['read', 'write', 'delete'], propagate: false } },
      ],
      namedRights: ['exportData'],
    },
    apply: null,
    exitCode: 7,
  }, 'one JSON document with both operators and what is missing; the operator existed before this second run')
  t.equal(json.err, '', 'nothing on stderr')

  const applied = await audit(s, ['--apply', '--yes'])
  t.equal(applied.code, AUDIT_EXIT.missing, '--apply: still exit 7, the named right is not written')
  t.match(applied.out, `--apply writes 2 folder permissions with xtk:session#Write (xtk:rights):\n  grant read|write (propagate) on /Administration/Configuration/ (configuration) to ${TECHNICAL}\n` +
    `  grant read|write|delete on /Profiles and Targets/Recipients/ (recipients) to ${TECHNICAL}\nNamed rights are not written (exportData): grant them through the technical account's product profile.\n`, 'the plan')
  t.match(applied.out, '  written  read|write on /Administration/Configuration/\n  written  read|write|delete on /Profiles and Targets/Recipients/\n', 'each write\'s result')
  t.match(applied.out, 'audit-rights: 2 of 2 folder permissions written, 1 named right missing (not written) (exit 7)', 'the verdict')
  t.equal(writes(s), 2, 'two Writes reached Campaign')
  t.same(s.campaign.access.folderPermissions(TECHNICAL), [
    { folder: 'configuration', fullName: '/Administration/Configuration/', rights: ['read', 'write'], propagate: true },
    { folder: 'recipients', fullName: '/Profiles and Targets/Recipients/', rights: ['read', 'write', 'delete'], propagate: false },
  ], 'the simulator holds exactly the two permissions for the technical operator')
  t.same(s.campaign.access.folderPermissions('etl_operator').length, 2, 'the legacy operator keeps its own')

  const again = await audit(s, ['--json'])
  const after = JSON.parse(again.out) as { missing: { folderPermissions: unknown[], namedRights: string[] } }
  t.same(after.missing, { folderPermissions: [], namedRights: ['exportData'] }, 'a second audit: no folder permission missing, the named right still is')
  t.equal(again.code, AUDIT_EXIT.missing, 'exit 7 for the named right alone, as docs/audit-rights.md says')
  const text = await audit(s)
  t.notMatch(text.out, /^folder /m, 'the table has no folder row')
  t.match(text.out, 'audit-rights: 0 folder permissions and 1 named right missing (exit 7); named rights are granted through product profiles', 'the verdict')
})

t.test('fewer rights on a folder count as missing the difference; --apply writes the union; nothing missing is exit 0', async t => {
  const s = await setup(t)
  // The technical operator exists (a first call) and has read, not propagated, on configuration; and the legacy operator's named right.
  await audit(s)
  s.campaign.seedAccess({ folderPermissions: [{ folder: 'configuration', operator: TECHNICAL, rights: ['read'] }, { folder: 'recipients', operator: TECHNICAL, rights: ['delete', 'read', 'write'], propagate: true }] })
  const dry = await audit(s, ['--json'])
  const doc = JSON.parse(dry.out) as { missing: { folderPermissions: unknown[] } }
  t.same(doc.missing.folderPermissions, [{
    folder: 'configuration', fullName: '/Administration/Configuration/', rights: ['write'], propagate: true, legacyRights: ['read', 'write'], technicalRights: ['read'], grant: { rights: ['read', 'write'], propagate: true },
  }], 'configuration lacks write and propagation; recipients has more than the legacy operator, nothing missing there')
  const text = await audit(s)
  t.match(text.out, /^folder +\/Administration\/Configuration\/ +read\|write \(propagate\) +read +write \+ propagate$/m, 'the table shows what each has')
  await audit(s, ['--apply', '--yes'])
  t.same(s.campaign.access.folderPermissions(TECHNICAL)[0], { folder: 'configuration', fullName: '/Administration/Configuration/', rights: ['read', 'write'], propagate: true }, 'the union was written')

  const onlyPropagate = await setup(t, { access: { ...SEED, folderPermissions: [{ folder: 'configuration', operator: 'etl_operator', rights: ['read'], propagate: true }] } })
  await audit(onlyPropagate)
  onlyPropagate.campaign.seedAccess({ folderPermissions: [{ folder: 'configuration', operator: TECHNICAL, rights: ['read', 'write'] }] })
  t.match((await audit(onlyPropagate)).out, /^folder +\/Administration\/Configuration\/ +read \(propagate\) +read\|write +propagate$/m, 'propagation alone can be missing')

  const none = await setup(t, { access: { folders: [{ name: 'empty', fullName: '/Empty/' }], operators: [{ login: 'etl_operator', rights: ['admin'] }] } })
  const clean = await audit(none)
  t.equal(clean.code, AUDIT_EXIT.ok, 'nothing missing: exit 0')
  t.match(clean.out, `${TECHNICAL} has every folder permission and named right granted directly to etl_operator.`, 'says so')
  t.match(clean.out, 'audit-rights: nothing is missing (exit 0)', 'the verdict')
  const nothingToWrite = await audit(none, ['--apply'], terminal(''))
  t.equal(nothingToWrite.code, AUDIT_EXIT.ok, '--apply with nothing to write: exit 0, without asking')
  t.match(nothingToWrite.out, '--apply writes 0 folder permissions', 'the empty plan')
  t.notMatch(nothingToWrite.out, /\[y\/N\]/, 'no question')
})

t.test('--apply without --yes: refused unless standard input is a terminal, which is asked', async t => {
  const s = await setup(t)
  const refused = await audit(s, ['--apply'])
  t.equal(refused.code, 2, 'not a terminal, no --yes: exit 2')
  t.match(refused.err, 'campaign-ims-proxy audit-rights: --apply asks for confirmation on a terminal, and standard input is not one: nothing was written', 'says why')
  t.equal(s.campaign.requests.length, 0, 'before anything reached Campaign')
  const piped = await audit(s, ['--apply'], { async * [Symbol.asyncIterator] () { yield 'y\n' } })
  t.equal(piped.code, 2, 'a pipe saying y is not a confirmation')
  t.equal(writes(s), 0, 'nothing was written')

  const no = await audit(s, ['--apply'], terminal('n\ny\n'))
  t.equal(no.code, AUDIT_EXIT.missing, 'answered n: exit 7')
  t.match(no.out, 'Write these 2 to Campaign default? [y/N] Not confirmed: nothing was written.', 'asked, then nothing written')
  t.equal(writes(s), 0, 'no Write')
  const json = await audit(s, ['--apply', '--json'], terminal('yes'))
  t.equal(json.code, AUDIT_EXIT.missing, 'answered yes (at the end of the input)')
  t.match(json.err, 'Write these 2 to Campaign default? [y/N]   written  read|write on /Administration/Configuration/', 'with --json, the plan, question and results go to stderr')
  const doc = JSON.parse(json.out) as { apply: unknown }
  t.same(doc.apply, {
    confirmed: true,
    writes: [
      { folder: 'configuration', fullName: '/Administration/Configuration/', rights: ['read', 'write'], propagate: true, result: 'written' },
      { folder: 'recipients', fullName: '/Profiles and Targets/Recipients/', rights: ['read', 'write', 'delete'], propagate: false, result: 'written' },
    ],
  }, 'and the JSON says what was written')
  t.equal(writes(s), 2, 'both were written')

  const one = await setup(t, { access: { ...SEED, folderPermissions: [{ folder: 'configuration', operator: 'etl_operator', rights: ['read'] }] } })
  t.match((await audit(one, ['--apply'], terminal('N\n'))).out, 'Write it to Campaign default? [y/N] ', 'one write: "it"')
})

t.test('a write Campaign refuses, or that fails, is reported; the others are written; exit 7', async t => {
  const s = await setup(t, {
    access: {
      ...SEED,
      folders: [...(SEED.folders ?? []), { name: 'locked', fullName: '/Administration/Locked/', refusePermissionWrites: true }, { name: 'busy', fullName: '/Busy/' }],
      folderPermissions: [
        { folder: 'busy', operator: 'etl_operator', rights: ['read'] },
        { folder: 'configuration', operator: 'etl_operator', rights: ['read'] },
        { folder: 'locked', operator: 'etl_operator', rights: ['read'] },
      ],
      operators: [{ login: 'etl_operator' }],
    },
  })
  // Written in the order of their full names: the 503 hits /Administration/Configuration/.
  s.campaign.faults.inject({ kind: 'status', status: 503, body: 'busy' }, { soapMethod: WRITE, times: 1 })
  const run = await audit(s, ['--apply', '--yes'])
  t.equal(run.code, AUDIT_EXIT.missing, 'exit 7')
  t.match(run.out, '  FAILED  read on /Administration/Configuration/: HTTP 503 without a SOAP answer\n', 'a write answered without SOAP')
  t.match(run.out, "  REFUSED  read on /Administration/Locked/: HTTP 500: SOP-330011 Error while executing the method 'Write' of service 'xtk:session'. " +
    "SIM-000002 The permissions of folder '/Administration/Locked/' cannot be changed (a folder seeded with refusePermissionWrites).\n", 'a write Campaign refuses: its fault string and detail, not hidden')
  t.match(run.out, '  written  read on /Busy/\n', 'the other was written')
  t.match(run.out, 'audit-rights: 1 of 3 folder permissions written, 2 refused or failed, 0 named rights missing (not written) (exit 7)', 'the verdict')

  s.campaign.faults.inject({ kind: 'reset' }, { soapMethod: WRITE, times: 1 })
  const cut = await audit(s, ['--apply', '--yes'])
  t.match(cut.out, / {2}FAILED {2}read on \/Administration\/Configuration\/: http:\/\/127\.0\.0\.1:\d+ could not be reached \(\w+\)/, 'a write whose connection was cut')

  const refused = await audit(s, ['--apply', '--yes', '--json'])
  const doc = JSON.parse(refused.out) as { apply: { writes: Array<{ folder: string, result: string, reason?: string }> } }
  t.same(doc.apply.writes.map(w => [w.folder, w.result]), [['configuration', 'written'], ['locked', 'refused']], 'a third run writes what failed before; the locked folder is refused again')
  t.equal(doc.apply.writes[1]?.reason, "HTTP 500: SOP-330011 Error while executing the method 'Write' of service 'xtk:session'. SIM-000002 The permissions of folder '/Administration/Locked/' cannot be changed (a folder seeded with refusePermissionWrites).",
    'the JSON gives the reason too')
  t.equal(refused.code, AUDIT_EXIT.missing, 'exit 7')
  t.same(s.campaign.access.folderPermissions(TECHNICAL).map(p => p.folder), ['busy', 'configuration'], 'the refused folder was not written')
})

t.test('names are escaped: a quote in an operator\'s login; control characters refused', async t => {
  const login = "o'brien\\etl"
  const s = await setup(t, { access: { operators: [{ login, rights: [] }], folders: [{ name: 'f', fullName: '/F/' }], folderPermissions: [{ folder: 'f', operator: login, rights: ['read'] }] } })
  const io = captureIo()
  const code = await main(['audit-rights', '--config', s.file, '--operator', login, '--account', 'marketing'], io)
  t.equal(code, AUDIT_EXIT.missing, 'the operator is found')
  t.match(io.out(), /^folder +\/F\/ +read +- +read$/m, 'with its permission')
  const queries = s.campaign.requests.filter(r => r.soapMethod === QUERY).map(r => r.body.toString())
  t.ok(queries.some(q => q.includes('expr="@name = &apos;o\\&apos;brien\\\\etl&apos;"')), 'the condition holds the login as an escaped XTK string, XML-escaped')
  t.notOk(queries.some(q => q.includes("o'brien")), 'never as it was typed')

  const control = captureIo()
  t.equal(await main(['audit-rights', '--config', s.file, '--operator', 'etl\n_operator', '--account', 'marketing'], control), 2, 'a control character: exit 2')
  t.match(control.err(), '--operator: "etl\\n_operator" is not a usable name (empty, or holding control characters)', 'says so')
})

t.test('unknown account, instance or operator; usage; an invalid configuration: exit 2', async t => {
  const s = await setup(t)
  const run = async (args: string[]): Promise<Run> => {
    const io = captureIo()
    return { code: await main(['audit-rights', ...args], io), out: io.out(), err: io.err() }
  }
  const account = await run(['--config', s.file, '--operator', 'etl_operator', '--account', 'crm'])
  t.same([account.code, account.err], [2, "campaign-ims-proxy audit-rights: unknown technical account 'crm': technicalAccounts has marketing, events\n"], 'an unknown account is named')
  await writeFile(join(s.dir, 'no-accounts.yaml'), `campaign: { url: '${s.campaign.url}' }\n`)
  t.match((await run(['--config', join(s.dir, 'no-accounts.yaml'), '--operator', 'etl_operator', '--account', 'marketing'])).err, "unknown technical account 'marketing': technicalAccounts has none", 'or that there is none')
  const instance = await audit(s, ['--campaign', 'mc'])
  t.same([instance.code, instance.err], [2, "campaign-ims-proxy audit-rights: unknown Campaign instance 'mc': the configuration's instances are default\n"], 'an unknown instance too')
  t.equal((await audit(s, ['--campaign', 'default'])).code, AUDIT_EXIT.missing, 'campaign: alone is the instance named default')
  t.equal(s.campaign.requests.length > 0, true, 'which was called')
  const operator = await main(['audit-rights', '--config', s.file, '--operator', 'nobody', '--account', 'marketing'], captureIo())
  t.equal(operator, 2, 'an operator Campaign does not have: exit 2')
  const group = captureIo()
  t.equal(await main(['audit-rights', '--config', s.file, '--operator', 'etlGroup', '--account', 'marketing', '--json'], group), 2, 'a group is not an operator')
  t.same(JSON.parse(group.out()), {
    version: 1,
    campaign: 'default',
    account: 'marketing',
    error: { kind: 'config', reason: "Campaign has no operator named 'etlGroup': give --operator the login of the legacy technical operator (Administration > Access Management > Operators; an operator group is not an operator)" },
    exitCode: 2,
  }, 'with --json, the error as a JSON document')

  t.match((await run(['--config', s.file])).err, '--config FILE, --operator LOGIN and --account ACCOUNT are required', 'required options')
  t.match((await run(['--config', s.file, '--operator', 'x', '--account', 'marketing', '--yes'])).err, '--yes goes with --apply', '--yes alone')
  t.match((await run(['--config', s.file, '--operator', 'x', '--account', 'marketing', 'extra'])).err, "Unexpected argument 'extra'", 'a stray argument')
  t.match((await run(['--config', s.file, '--operator', '', '--account', 'marketing'])).err, '--operator: "" is not a usable name', 'an empty login')
  const help = await run(['--help'])
  t.equal(help.code, 0, '--help')
  t.match(help.out, /Exit codes:[\s\S]*7 {2}something is missing/, 'documents the exit codes')
  const usage = captureIo()
  await main(['help'], usage)
  t.match(usage.out(), 'audit-rights --config FILE --operator LOGIN --account ACCOUNT', 'the command is in the usage')

  await writeFile(join(s.dir, 'bad.yaml'), 'colour: blue\n')
  const invalid = await run(['--config', join(s.dir, 'bad.yaml'), '--operator', 'x', '--account', 'marketing'])
  t.equal(invalid.code, 2, 'an invalid configuration: exit 2')
  t.match(invalid.err, 'colour', 'naming the problem')
})

t.test('several instances: --campaign picks one, defaultCampaign is the default, none without one', async t => {
  const instances = (url: string): string => `campaigns:\n  marketing: { url: '${url}' }\n  messageCenter: { url: 'http://127.0.0.1:9', listen: { port: 0 } }`
  const s = await setup(t, {}, { campaigns: instances })
  const none = await audit(s)
  t.same([none.code, none.err], [2, 'campaign-ims-proxy audit-rights: the configuration has several Campaign instances (marketing, messageCenter) and no defaultCampaign: choose one with --campaign NAME\n'], 'no default: exit 2')
  const picked = await audit(s, ['--campaign', 'marketing'])
  t.equal(picked.code, AUDIT_EXIT.missing, '--campaign marketing')
  t.match(picked.out, /^Campaign marketing \(http:\/\/127\.0\.0\.1:\d+\), technical account marketing \(token [0-9a-f]{12}\)$/m, 'names the instance and the token fingerprint')
  const unreachable = await audit(s, ['--campaign', 'messageCenter'])
  t.equal(unreachable.code, AUDIT_EXIT.campaignUnavailable, 'an unreachable instance: exit 5, as check')
  t.match(unreachable.out, 'Campaign instance messageCenter could not be reached at http://127.0.0.1:9', 'naming the instance')

  const withDefault = await setup(t, {}, { campaigns: url => `${instances(url)}\ndefaultCampaign: marketing` })
  t.equal((await audit(withDefault)).code, AUDIT_EXIT.missing, 'defaultCampaign is the default')
  const single = await setup(t, {}, { campaigns: url => `campaigns:\n  marketing: { url: '${url}' }` })
  t.equal((await audit(single)).code, AUDIT_EXIT.missing, 'one instance under campaigns: is the default')
})

t.test('IMS and Campaign failures stop the audit with check\'s exit codes', async t => {
  const wrong = await setup(t, {}, { secret: 'not-the-secret' })
  const ims = await audit(wrong)
  t.equal(ims.code, AUDIT_EXIT.imsRefused, 'IMS refusing the client: exit 3')
  t.match(ims.out, 'IMS refused the credential (HTTP 401 invalid_client): check technicalAccounts.marketing.clientId and clientSecret', 'with check\'s reason')
  t.match(ims.out, 'audit-rights: stopped before the comparison (exit 3)', 'and a verdict')
  t.notMatch(ims.out, /not-the-secret/, 'without the secret')
  const imsJson = JSON.parse((await audit(wrong, ['--json'])).out) as { error: { kind: string }, exitCode: number }
  t.same([imsJson.error.kind, imsJson.exitCode], ['imsRefused', 3], '--json: the error document')

  const profile = await setup(t, { allowedImsClients: ['events-client'] })
  t.equal((await audit(profile)).code, AUDIT_EXIT.campaignRefused, 'Campaign refusing the token: exit 6')

  const s = await setup(t)
  const fault = soapFault({ code: 'Client', message: 'SOP-330011 Error while executing the method \'ExecuteQuery\' of service \'xtk:queryDef\'.' })
  s.campaign.faults.inject({ kind: 'status', status: 500, body: fault, headers: { 'content-type': 'text/xml' } }, { soapMethod: QUERY, times: 1 })
  const refused = await audit(s)
  t.equal(refused.code, AUDIT_EXIT.campaignRefused, 'a query refused: exit 6')
  t.match(refused.out, "Campaign refused to read xtk:operator for the technical account (HTTP 500: SOP-330011 Error while executing the method 'ExecuteQuery' of service 'xtk:queryDef'.): its operator needs the right", 'says which and what to do')
  s.campaign.faults.inject({ kind: 'status', status: 503, body: 'busy' }, { soapMethod: QUERY, times: 1 })
  const busy = await audit(s)
  t.equal(busy.code, AUDIT_EXIT.campaignUnavailable, 'a query answered without SOAP: exit 5')
  t.match(busy.out, 'Campaign answered xtk:queryDef#ExecuteQuery on xtk:operator with HTTP 503 and no query result', 'says so')
  s.campaign.faults.inject({ kind: 'reset' }, { soapMethod: QUERY, times: 1 })
  const cut = await audit(s)
  t.equal(cut.code, AUDIT_EXIT.campaignUnavailable, 'a query whose connection is cut: exit 5')
  t.match(cut.out, /Campaign could not be reached at http:\/\/127\.0\.0\.1:\d+ while reading xtk:operator \(\w+\): try again later/, 'says so')

  const info = '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><GetUserInfoResponse xmlns="urn:xtk:session"><pUserInfo><userInfo login="tech\u007fnical"/></pUserInfo></GetUserInfoResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>'
  s.campaign.faults.inject({ kind: 'status', status: 200, body: info, headers: { 'content-type': 'text/xml' } }, { soapMethod: 'xtk:session#GetUserInfo', times: 1 })
  const login = await audit(s)
  t.equal(login.code, AUDIT_EXIT.campaignUnavailable, 'GetUserInfo naming an unusable login: exit 5')
  t.match(login.out, 'Campaign answered GetUserInfo with an unusable operator login', 'says so')

  await audit(s)
  await s.campaign.store.write((await import('../../src/soap/xml-tree.js')).parseXml(`<operator xtkschema="xtk:operator" _operation="delete" _key="@name" name="${TECHNICAL}"/>`))
  const gone = await audit(s)
  t.equal(gone.code, AUDIT_EXIT.campaignUnavailable, 'the operator GetUserInfo names is not in xtk:operator: exit 5')
  t.match(gone.out, `Campaign answered GetUserInfo as '${TECHNICAL}' but has no operator of that name`, 'says so')
})

t.test('when Campaign\'s answers carry no dates, whether the operator was created now is unknown', async t => {
  const s = await setup(t)
  s.campaign.faults.inject({ kind: 'status', status: 200, body: "<redir status='OK' build='9372'/>", headers: { 'content-type': 'text/xml' } }, { path: '/r/test', times: 1 })
  const run = await audit(s, ['--json'])
  t.equal((JSON.parse(run.out) as { technicalOperator: { createdByThisRun: unknown } }).technicalOperator.createdByThisRun, null, 'null in the JSON')
  s.campaign.faults.inject({ kind: 'status', status: 200, body: "<redir status='OK' build='9372'/>", headers: { 'content-type': 'text/xml' } }, { path: '/r/test', times: 1 })
  t.match((await audit(s)).out, 'whether this call created it is unknown', 'said in the table')
})
