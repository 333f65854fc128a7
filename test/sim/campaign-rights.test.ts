// The simulator's access management over raw SOAP (docs/simulators.md#folder-permissions-and-named-rights):
// operators with their named rights, groups and memberships, folders and
// folder permissions read with xtk:queryDef#ExecuteQuery, folder
// permissions written with xtk:session#Write of xtk:rights; and the seed.
import t from 'tap'
import type { CampaignSimulator } from '../../src/sim/campaign.js'
import type { AccessSeed } from '../../src/sim/campaign-rights.js'
import { call, CLIENT_OPERATOR, imsToken, startSims, T0 } from '../fixtures/campaign-sims.js'
import type { HttpResult } from '../fixtures/http.js'
import { elementOut, expectedFault, expectedResponse, MESSAGES } from '../fixtures/soap.js'

const ADMIN = 'admin/admin'

const SEED: AccessSeed = {
  operators: [{ login: 'legacy_api', password: 'legacy-password', technical: true, label: 'Legacy API', rights: ['exportData', 'import'] }],
  groups: [{ name: 'apiUsers', label: 'API users', rights: ['workflow'] }, { name: 'readers' }],
  folders: [
    { name: 'configuration', fullName: '/Administration/Configuration/', label: 'Configuration' },
    { name: 'recipients', fullName: '/Profiles and Targets/Recipients/' },
    { name: 'locked', fullName: '/Administration/Locked/', refusePermissionWrites: true },
  ],
  memberships: [{ operator: 'legacy_api', group: 'apiUsers' }, { operator: 'legacy_api', group: 'readers' }, { operator: 'legacy_api', group: 'apiUsers' }],
  folderPermissions: [
    { folder: 'configuration', operator: 'legacy_api', rights: ['write', 'read'], propagate: true },
    { folder: 'recipients', operator: 'legacy_api', rights: ['read', 'write', 'delete'] },
    { folder: 'recipients', operator: 'apiUsers', rights: ['read'] },
  ],
}

function query (campaign: CampaignSimulator, queryDef: string, headers = {}, sessionToken = ADMIN): Promise<HttpResult> {
  return call(campaign, { schema: 'xtk:queryDef', method: 'ExecuteQuery', sessionToken, params: [['entity', { xml: queryDef }]] }, headers)
}

function write (campaign: CampaignSimulator, doc: string, headers = {}, sessionToken = ADMIN): Promise<HttpResult> {
  return call(campaign, { schema: 'xtk:session', method: 'Write', sessionToken, params: [['domDoc', { xml: doc }]] }, headers)
}

const output = (xml: string): string => expectedResponse('urn:xtk:queryDef', 'ExecuteQuery', [elementOut('pdomOutput', xml)])
const queryError = (detail: string): string => expectedFault(MESSAGES.methodError('xtk:queryDef', 'ExecuteQuery'), detail)
const writeError = (detail: string): string => expectedFault(MESSAGES.methodError('xtk:session', 'Write'), detail)
const WRITE_OK = expectedResponse('urn:xtk:session', 'Write', [])

const rightsQuery = (operator: string): string => '<queryDef schema="xtk:rights" operation="select"><select><node expr="@rights"/><node expr="@propagate"/>' +
  `<node expr="[folder/@fullName]"/><node expr="[folder/@name]"/></select><where><condition expr="[operator/@name] = ${operator}"/></where></queryDef>`

t.test('operators, their named rights and creation date; groups and memberships', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true, access: SEED })
  const operator = await query(campaign, '<queryDef schema="xtk:operator" operation="select"><select><node expr="@id"/><node expr="@name"/><node expr="@type"/>' +
    "<node expr=\"@label\"/><node expr=\"@created\"/><node expr=\"rights\"/></select><where><condition expr=\"@name = 'legacy_api'\"/><condition expr=\"@type = 0\"/></where></queryDef>")
  t.equal(operator.text, output('<operator-collection><operator id="1062" name="legacy_api" type="0" label="Legacy API" created="2026-11-23 09:00:00.000Z">' +
    '<rights><right name="exportData"/><right name="import"/></rights></operator></operator-collection>'), 'an operator with its attributes, its creation date and its named rights as a rights element')
  const groups = await query(campaign, "<queryDef schema=\"xtk:operator\"><select><node expr=\"@name\"/><node expr=\"rights\"/></select><where><condition expr=\"@type = '1'\"/></where></queryDef>")
  t.equal(groups.text, output('<operator-collection><operator name="apiUsers"><rights><right name="workflow"/></rights></operator>' +
    '<operator name="readers"><rights></rights></operator></operator-collection>'), 'groups are operators of type 1, with their own named rights')
  const admin = await query(campaign, "<queryDef schema=\"xtk:operator\"><select><node expr=\"rights\"/></select><where><condition expr=\"@name = 'admin'\"/></where></queryDef>")
  t.equal(admin.text, output('<operator-collection><operator><rights><right name="admin"/></rights></operator></operator-collection>'), 'an element node alone makes an element with no attributes')
  await write(campaign, '<operator xtkschema="xtk:operator" _operation="insert" name="written"/>')
  t.equal((await query(campaign, "<queryDef schema=\"xtk:operator\"><select><node expr=\"rights\"/></select><where><condition expr=\"@name = 'written'\"/></where></queryDef>")).text,
    output('<operator-collection><operator><rights></rights></operator></operator-collection>'), 'a row written with a plain Write, neither a simulated operator nor a group, has no named rights')
  const memberships = await query(campaign, '<queryDef schema="xtk:operatorGroup" operation="select"><select><node expr="[group/@name]"/><node expr="[group/@label]"/></select>' +
    "<where><condition expr=\"[operator/@name] = 'legacy_api'\"/></where></queryDef>")
  t.equal(memberships.text, output('<operatorGroup-collection><operatorGroup><group name="apiUsers" label="API users"/></operatorGroup>' +
    '<operatorGroup><group name="readers" label="readers"/></operatorGroup></operatorGroup-collection>'), 'memberships are answered with the group as a child element, once each')
  t.same(campaign.access.groupsOf('legacy_api'), ['apiUsers', 'readers'], 'groupsOf reads the same')
  t.same(campaign.access.groupsOf('nobody'), [], 'an unknown operator is in no group')
})

t.test('folders and folder permissions, by [operator/@name]', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true, access: SEED })
  t.equal((await query(campaign, rightsQuery("'legacy_api'"))).text, output('<rights-collection>' +
    '<rights rights="read|write" propagate="1"><folder fullName="/Administration/Configuration/" name="configuration"/></rights>' +
    '<rights rights="read|write|delete" propagate="0"><folder fullName="/Profiles and Targets/Recipients/" name="recipients"/></rights></rights-collection>'),
  'the operator\'s own permissions, rights in Campaign\'s order, its group\'s not included')
  t.equal((await query(campaign, rightsQuery("'apiUsers'"))).text, output('<rights-collection><rights rights="read" propagate="0"><folder fullName="/Profiles and Targets/Recipients/" name="recipients"/></rights></rights-collection>'),
    'a group\'s permissions')
  t.equal((await query(campaign, "<queryDef schema=\"xtk:rights\"><select><node expr=\"@rights\"/></select><where><condition expr=\"[folder/@name] != 'configuration'\"/></where></queryDef>")).text,
    output('<rights-collection><rights rights="read|write|delete"/><rights rights="read"/></rights-collection>'), '!= on a link')
  t.equal((await query(campaign, '<queryDef schema="xtk:folder" operation="select"><select><node expr="@name"/><node expr="@fullName"/><node expr="@label"/></select></queryDef>')).text,
    output('<folder-collection><folder name="configuration" fullName="/Administration/Configuration/" label="Configuration"/>' +
      '<folder name="recipients" fullName="/Profiles and Targets/Recipients/" label="recipients"/><folder name="locked" fullName="/Administration/Locked/" label="locked"/></folder-collection>'),
    'folders with their names and full names')
  t.same(campaign.access.folderPermissions('legacy_api'), [
    { folder: 'configuration', fullName: '/Administration/Configuration/', rights: ['read', 'write'], propagate: true },
    { folder: 'recipients', fullName: '/Profiles and Targets/Recipients/', rights: ['read', 'write', 'delete'], propagate: false },
  ], 'folderPermissions reads the same')
  t.same(campaign.access.folderPermissions('nobody'), [], 'an unknown operator has none')
  await write(campaign, '<rights xtkschema="xtk:rights" _operation="delete" id="1"/>')
  t.equal((await query(campaign, "<queryDef schema=\"xtk:rights\"><select><node expr=\"[folder/@name]\"/></select><where><condition expr=\"[operator/@name] = 'nobody'\"/></where></queryDef>")).text,
    output('<rights-collection></rights-collection>'), 'nothing for an unknown operator')
})

t.test('string values in conditions: \\\' and \\\\ escapes, as escapeXtk writes them', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true, access: { operators: [{ login: "o'brien\\api" }], folders: [{ name: 'f', fullName: '/F/' }], folderPermissions: [{ folder: 'f', operator: "o'brien\\api", rights: ['read'] }] } })
  t.equal((await query(campaign, rightsQuery("'o\\'brien\\\\api'"))).text, output('<rights-collection><rights rights="read" propagate="0"><folder fullName="/F/" name="f"/></rights></rights-collection>'),
    'an escaped quote and backslash match the name')
  t.equal((await query(campaign, rightsQuery("'o'brien'"))).text, queryError("unsupported condition '[operator/@name] = 'o'brien'' (the simulator supports @attribute or [link/@attribute] = 'value')"),
    'an unescaped quote is not a condition')
})

t.test('unsupported expressions on the access schemas', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true, access: SEED })
  t.equal((await query(campaign, '<queryDef schema="xtk:rights"><select><node expr="[owner/@name]"/></select></queryDef>')).text, queryError("xtk:rights has no link 'owner' in the simulator"), 'an unknown link is refused in a select')
  t.equal((await query(campaign, "<queryDef schema=\"nms:recipient\"><where><condition expr=\"[folder/@name] = 'x'\"/></where></queryDef>")).text, queryError("nms:recipient has no link 'folder' in the simulator"),
    'and in a condition, for a schema without links')
  t.equal((await query(campaign, '<queryDef schema="xtk:folder"><select><node expr="rights"/></select></queryDef>')).text,
    queryError("unsupported select expression 'rights' (the simulator supports @attribute, [link/@attribute] and the element nodes of a schema)"), 'an element node the schema does not have is refused')
  await write(campaign, '<rights xtkschema="xtk:operatorGroup" _operation="insert" operator-id="1062" group-id="99999"/>')
  t.equal((await query(campaign, "<queryDef schema=\"xtk:operatorGroup\"><select><node expr=\"@id\"/><node expr=\"[group/@name]\"/></select><where><condition expr=\"[operator/@name] = 'legacy_api'\"/></where></queryDef>")).text,
    output('<operatorGroup-collection><operatorGroup id="10005"><group name="apiUsers"/></operatorGroup><operatorGroup id="10006"><group name="readers"/></operatorGroup><operatorGroup id="10010"/></operatorGroup-collection>'),
    'a link to a row that does not exist answers no child element')
})

t.test('Write of xtk:rights: insertOrUpdate by folder and operator names', async t => {
  const { ims, campaign, clock } = await startSims(t, { access: SEED })
  const bearer = { authorization: `Bearer ${await imsToken(ims)}` }
  clock.advance(60_000)
  const info = await call(campaign, { schema: 'xtk:session', method: 'GetUserInfo' }, bearer)
  t.match(info.text, `login="${CLIENT_OPERATOR}"`, 'the technical account\'s operator appears on its first call')
  t.equal((await query(campaign, `<queryDef schema="xtk:operator" operation="get"><select><node expr="@created"/></select><where><condition expr="@name = '${CLIENT_OPERATOR}'"/></where></queryDef>`, bearer, '')).text,
    output(`<operator created="${new Date(T0 + 60_000).toISOString().replace('T', ' ')}"/>`), 'created at that call')
  const grant = (folder: string, rights: string, propagate = '1'): Promise<HttpResult> =>
    write(campaign, `<rights xtkschema="xtk:rights" _operation="insertOrUpdate" rights="${rights}" propagate="${propagate}"><folder name="${folder}"/><operator name="${CLIENT_OPERATOR}"/></rights>`, bearer, '')
  t.equal((await grant('configuration', 'read')).text, WRITE_OK, 'a new permission is written')
  t.equal((await grant('configuration', 'write|read', 'true')).text, WRITE_OK, 'and rewritten')
  t.equal((await write(campaign, `<rights xtkschema="xtk:rights" rights="read"><folder name="recipients"/><operator name="${CLIENT_OPERATOR}"/></rights>`, bearer, '')).text, WRITE_OK,
    'insertOrUpdate is the default operation; propagate defaults to no')
  t.same(campaign.access.folderPermissions(CLIENT_OPERATOR), [
    { folder: 'configuration', fullName: '/Administration/Configuration/', rights: ['read', 'write'], propagate: true },
    { folder: 'recipients', fullName: '/Profiles and Targets/Recipients/', rights: ['read'], propagate: false },
  ], 'one row per folder, the last write\'s rights')
  t.equal(campaign.store.rows('xtk:rights').length, 5, 'two rows were added to the three seeded')
})

t.test('Write of xtk:rights refused: SOP-330011 with the reason, nothing written', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true, access: SEED })
  const before = campaign.store.rows('xtk:rights').map(r => ({ ...r }))
  const cases: Array<[string, string, string]> = [
    ['<rights xtkschema="xtk:rights" rights="read"><folder name="nowhere"/><operator name="legacy_api"/></rights>', "no xtk:folder record has @name 'nowhere' (link 'folder' of xtk:rights)", 'an unknown folder'],
    ['<rights xtkschema="xtk:rights" rights="read"><folder name="configuration"/><operator name="nobody"/></rights>', "no xtk:operator record has @name 'nobody' (link 'operator' of xtk:rights)", 'an unknown operator'],
    ['<rights xtkschema="xtk:rights" rights="read"><operator name="legacy_api"/></rights>', 'an xtk:rights entity needs its folder link as <folder name="..."/>', 'no folder link'],
    ['<rights xtkschema="xtk:rights" rights="read"><folder id="1"/><operator name="legacy_api"/></rights>', 'an xtk:rights entity needs its folder link as <folder name="..."/>', 'a folder link without a name'],
    ['<rights xtkschema="xtk:rights" rights="read|admin"><folder name="configuration"/><operator name="legacy_api"/></rights>', "invalid rights 'read|admin': one or more of read, write and delete, separated by |", 'an unknown right'],
    ['<rights xtkschema="xtk:rights" _operation="delete"><folder name="configuration"/><operator name="legacy_api"/></rights>', "the simulator writes xtk:rights with _operation insertOrUpdate only, not 'delete'", 'another operation'],
    ['<rights xtkschema="xtk:rights" rights="read"><folder name="locked"/><operator name="legacy_api"/></rights>',
      "SIM-000002 The permissions of folder '/Administration/Locked/' cannot be changed (a folder seeded with refusePermissionWrites).", 'a folder seeded to refuse'],
  ]
  for (const [doc, detail, what] of cases) {
    const answer = await write(campaign, doc)
    t.equal(answer.status, 500, `${what}: HTTP 500`)
    t.equal(answer.text, writeError(detail), `${what}: ${detail}`)
  }
  t.same(campaign.store.rows('xtk:rights'), before, 'nothing was written')
  t.equal((await write(campaign, '<rights xtkschema="xtk:rights"><folder name="configuration"/><operator name="legacy_api"/></rights>')).text, WRITE_OK, 'a permission without rights is no rights')
  t.same(campaign.access.folderPermissions('legacy_api')[0], { folder: 'configuration', fullName: '/Administration/Configuration/', rights: [], propagate: false }, 'stored as such')
})

t.test('seeding: existing operators kept, inconsistent seeds refused', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true })
  campaign.seedAccess({ operators: [{ login: 'admin', password: 'other', rights: [] }], folders: [{ name: 'a', fullName: '/A/' }] })
  t.equal((await call(campaign, { schema: 'xtk:session', method: 'Logon', params: [['login', 'admin'], ['password', 'admin'], ['parameters', { xml: '' }]] })).status, 200, 'an operator that exists is kept as it was')
  campaign.seedAccess({})
  const refusals: Array<[AccessSeed, string]> = [
    [{ groups: [{ name: 'admin' }] }, "cannot seed group 'admin': an operator or group has that name"],
    [{ folders: [{ name: 'a', fullName: '/A2/' }] }, "cannot seed folder 'a': it exists"],
    [{ memberships: [{ operator: 'ghost', group: 'g' }] }, "cannot seed membership: no operator 'ghost'"],
    [{ memberships: [{ operator: 'admin', group: 'mc' }] }, "cannot seed membership: no group 'mc'"],
    [{ folderPermissions: [{ folder: 'none', operator: 'admin', rights: ['read'] }] }, "cannot seed folder permission: no folder 'none'"],
    [{ folderPermissions: [{ folder: 'a', operator: 'ghost', rights: ['read'] }] }, "cannot seed folder permission: no operator or group 'ghost'"],
  ]
  for (const [seed, message] of refusals) t.throws(() => campaign.seedAccess(seed), { message }, message)
})
