// audit-rights' pieces without Campaign (docs/audit-rights.md): XTK
// escaping, the documents it builds, reading answers Campaign may shape
// differently from the simulator, the comparison, Campaign's dates.
import t from 'tap'
import { createdDuringRun, parseCampaignDate } from '../../src/audit-rights.js'
import { missingAccess } from '../../src/audit/compare.js'
import { folderPermissionsQuery, folderPermissionWrite, groupsQuery, operatorQuery, parseRights, readFolderPermissions, readGroups, readOperator, sortRights, xtkString, XtkValueError } from '../../src/audit/queries.js'
import { auditText, type AuditResult } from '../../src/audit/report.js'
import { parseXml } from '../../src/soap/xml-tree.js'

t.test('XTK string literals: quoted, \\ and \' escaped, control characters and empty values refused', async t => {
  t.equal(xtkString('etl_operator'), "'etl_operator'", 'a plain login')
  t.equal(xtkString("o'brien"), "'o\\'brien'", 'a quote is escaped with a backslash, as Campaign\'s escapeXtk does')
  t.equal(xtkString('a\\b'), "'a\\\\b'", 'a backslash is doubled')
  for (const bad of ['', 'a\nb', 'a\u0000', 'a\u007f', 'a\u0085']) t.throws(() => xtkString(bad), XtkValueError, `${JSON.stringify(bad)} is refused`)
})

t.test('the documents sent to Campaign', async t => {
  t.equal(operatorQuery("o'b"), '<queryDef schema="xtk:operator" operation="select"><select><node expr="@id"/><node expr="@name"/><node expr="@type"/><node expr="@label"/>' +
    '<node expr="@created"/><node expr="rights"/></select><where><condition expr="@name = &apos;o\\&apos;b&apos;"/><condition expr="@type = 0"/></where></queryDef>', 'the operator, XML-escaped')
  t.equal(groupsQuery('x'), '<queryDef schema="xtk:operatorGroup" operation="select"><select><node expr="[group/@name]"/></select><where><condition expr="[operator/@name] = &apos;x&apos;"/></where></queryDef>', 'its groups')
  t.equal(folderPermissionsQuery('x'), '<queryDef schema="xtk:rights" operation="select"><select><node expr="@rights"/><node expr="@propagate"/><node expr="[folder/@fullName]"/><node expr="[folder/@name]"/></select>' +
    '<where><condition expr="[operator/@name] = &apos;x&apos;"/></where></queryDef>', 'its folder permissions')
  t.equal(folderPermissionWrite({ folder: 'a&b', operator: 'x"y@techacct.adobe.com', rights: ['read', 'write'], propagate: true }),
    '<rights xtkschema="xtk:rights" _operation="insertOrUpdate" rights="read|write" propagate="1"><folder name="a&amp;b"/><operator name="x&quot;y@techacct.adobe.com"/></rights>', 'the write, XML-escaped')
  t.match(folderPermissionWrite({ folder: 'f', operator: 'o', rights: ['read'], propagate: false }), 'propagate="0"', 'not propagated')
})

t.test('reading answers', async t => {
  const xml = (text: string) => parseXml(text)
  t.equal(readOperator(xml('<operator-collection/>')), undefined, 'no row: no operator')
  t.same(readOperator(xml('<operator-collection><operator/></operator-collection>')), { id: '', name: '', label: '', created: undefined, namedRights: [] }, 'a row without attributes or rights')
  t.same(readOperator(xml('<operator-collection><operator id="1" name="n" label="l" created="c"><rights><right name="b"/><right/><note/><right name="a"/><right name="b"/></rights></operator></operator-collection>'))?.namedRights,
    ['a', 'b'], 'named rights sorted, once each, nameless ones ignored')
  t.same(readGroups(xml('<operatorGroup-collection><operatorGroup><group name="z"/></operatorGroup><operatorGroup/><operatorGroup><group/></operatorGroup><operatorGroup><group name="a"/></operatorGroup><operatorGroup><group name="z"/></operatorGroup></operatorGroup-collection>')),
    ['a', 'z'], 'group names sorted, once each')
  t.same(readFolderPermissions(xml('<rights-collection>' +
    '<rights rights="write" propagate="true"><folder name="b" fullName="/B/"/></rights>' +
    '<rights/>' +
    '<rights rights="read"><folder fullName="/Nameless/"/></rights>' +
    '<rights rights="read"><folder name=""/></rights>' +
    '<rights rights="delete|read|custom" propagate="0"><folder name="b"/></rights>' +
    '<rights><folder name="a"/></rights>' +
    '</rights-collection>')), [
    { folder: 'b', fullName: '/B/', rights: ['read', 'write', 'delete', 'custom'], propagate: true },
    { folder: 'a', fullName: 'a', rights: [], propagate: false },
  ], 'rows without a folder name are left out; two rows of a folder merge; a missing full name is the name; sorted by full name')
  t.same(sortRights(['custom', 'delete', 'read', 'read']), ['read', 'delete', 'custom'], 'Campaign\'s order first, others after')
  t.same(parseRights(undefined), [], 'no @rights: none')
  t.same(parseRights(' write | read |'), ['read', 'write'], 'spaces and empty parts ignored')
})

t.test('the comparison', async t => {
  const p = (folder: string, rights: string[], propagate = false) => ({ folder, fullName: `/${folder}/`, rights, propagate })
  const missing = missingAccess(
    { folderPermissions: [p('a', ['read', 'write']), p('b', ['read'], true), p('c', ['read']), p('d', ['read'])], namedRights: ['x', 'y'] },
    { folderPermissions: [p('a', ['read'], true), p('b', ['read']), p('c', ['read', 'write'], true)], namedRights: ['y', 'z'] }
  )
  t.same(missing.folderPermissions.map(m => [m.folder, m.rights, m.propagate, m.grant]), [
    ['a', ['write'], false, { rights: ['read', 'write'], propagate: true }],
    ['b', [], true, { rights: ['read'], propagate: true }],
    ['d', ['read'], false, { rights: ['read'], propagate: false }],
  ], 'a: a right missing (the technical operator\'s propagation kept); b: propagation missing; c: nothing missing; d: all missing')
  t.same(missing.namedRights, ['x'], 'named rights the technical operator lacks')
})

t.test('a folder permission without rights is shown as such', async t => {
  const empty = { folder: 'f', fullName: '/F/', rights: [], propagate: true }
  const operator = { name: 'o', id: '1', label: '', namedRights: [], groups: [], folderPermissions: [] }
  const result: AuditResult = {
    campaign: 'default',
    campaignUrl: 'https://c',
    account: 'a',
    fingerprint: 'f',
    legacy: { ...operator, name: 'legacy' },
    technical: { ...operator, name: 'tech', createdByThisRun: false },
    missing: { folderPermissions: [{ folder: 'f', fullName: '/F/', rights: [], propagate: true, legacy: empty, technical: undefined, grant: { rights: [], propagate: true } }], namedRights: [] },
  }
  t.match(auditText(result), /^folder +\/F\/ +\(no rights\) \(propagate\) +- +propagate$/m, '(no rights)')
})

t.test('Campaign\'s dates', async t => {
  t.equal(parseCampaignDate('2026-11-23 09:00:00.000Z'), Date.parse('2026-11-23T09:00:00.000Z'), 'the simulator\'s format (UTC)')
  t.equal(parseCampaignDate('2021-08-27 08:02:07.963-07'), Date.parse('2021-08-27T15:02:07.963Z'), '/r/test\'s format, an hour offset')
  t.equal(parseCampaignDate('2021-08-27 08:02:07+0130'), Date.parse('2021-08-27T06:32:07Z'), 'an offset with minutes')
  t.equal(parseCampaignDate('2021-08-27T08:02:07+01:30'), Date.parse('2021-08-27T06:32:07Z'), 'ISO 8601')
  t.equal(parseCampaignDate('2021-08-27 08:02:07'), Date.parse('2021-08-27T08:02:07Z'), 'no zone: UTC')
  t.equal(parseCampaignDate('2021-13-45 99:99:99'), undefined, 'not a date')
  t.equal(parseCampaignDate('yesterday'), undefined, 'not Campaign\'s format')
  t.equal(parseCampaignDate(undefined), undefined, 'absent')
  t.equal(createdDuringRun('2026-11-23 09:00:00.500Z', '2026-11-23 09:00:00Z'), true, 'a creation date kept to the second is within the tolerance')
  t.equal(createdDuringRun('2026-11-23 09:00:02Z', '2026-11-23 09:00:00Z'), false, 'created before the run')
  t.equal(createdDuringRun(undefined, '2026-11-23 09:00:00Z'), null, 'no server date: unknown')
  t.equal(createdDuringRun('2026-11-23 09:00:00Z', undefined), null, 'no creation date: unknown')
})
