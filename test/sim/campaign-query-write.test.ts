// The simulator's database subset over raw SOAP: xtk:persist#Write,
// xtk:queryDef#ExecuteQuery, GetEntityIfMoreRecent for schemas, and
// nms:rtEvent#PushEvent / PushEvents.
import t from 'tap'
import type { CampaignSimulator } from '../../src/sim/campaign.js'
import { call, CLIENT_OPERATOR, imsToken, startSims } from '../fixtures/campaign-sims.js'
import type { HttpResult } from '../fixtures/http.js'
import { elementOut, expectedFault, expectedResponse, MESSAGES, scalarOut } from '../fixtures/soap.js'

const ADMIN = 'admin/admin'
const WRITE_OK = expectedResponse('urn:xtk:session', 'Write', [])

function write (campaign: CampaignSimulator, doc: string, schema = 'xtk:session'): Promise<HttpResult> {
  return call(campaign, { schema, method: 'Write', sessionToken: ADMIN, params: [['doc', { xml: doc }]] })
}

function query (campaign: CampaignSimulator, queryDef: string): Promise<HttpResult> {
  return call(campaign, { schema: 'xtk:queryDef', method: 'ExecuteQuery', sessionToken: ADMIN, params: [['document', { xml: queryDef }]] })
}

function output (xml: string): string {
  return expectedResponse('urn:xtk:queryDef', 'ExecuteQuery', [elementOut('pdomOutput', xml)])
}

function writeError (detail: string, schema = 'xtk:session'): string {
  return expectedFault(MESSAGES.methodError(schema, 'Write'), detail)
}

function queryError (detail: string): string {
  return expectedFault(MESSAGES.methodError('xtk:queryDef', 'ExecuteQuery'), detail)
}

t.test('Write insert, then select everything back', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true })
  const first = await write(campaign, '<recipient xtkschema="nms:recipient" _operation="insert" email="ann@example.com" firstName="Ann"/>', 'xtk:persist|xtk:session')
  t.equal(first.text, expectedResponse('urn:xtk:persist|xtk:session', 'Write', []), 'Write through urn:xtk:persist|xtk:session answers an empty WriteResponse in that namespace')
  t.equal((await write(campaign, '<recipient xmlns:x="urn:x" xtkschema="nms:recipient" _operation="insert" _extra="1" email="bob@example.com" firstName="Bob"/>', 'xtk:persist')).text,
    expectedResponse('urn:xtk:persist', 'Write', []), 'Write through urn:xtk:persist works too')
  await write(campaign, '<recipient xtkschema="nms:recipient" _operation="insert" id="42" email="cy@example.com"/>')
  const all = await query(campaign, '<queryDef schema="nms:recipient" operation="select"/>')
  t.equal(all.text, output('<recipient-collection><recipient email="ann@example.com" firstName="Ann" id="10000"/>' +
    '<recipient email="bob@example.com" firstName="Bob" id="10001"/><recipient id="42" email="cy@example.com"/></recipient-collection>'),
  'every attribute of every row comes back; ids are generated when missing; xmlns, _ and xtkschema attributes are not stored')
})

t.test('Write update by _key, insertOrUpdate, delete', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true })
  await write(campaign, '<recipient xtkschema="nms:recipient" _operation="insert" email="ann@example.com" lastName="Lee" firstName="Ann"/>')
  await write(campaign, '<recipient xtkschema="nms:recipient" _operation="insert" email="bob@example.com" lastName="Ray" firstName="Bob"/>')
  t.equal((await write(campaign, '<recipient xtkschema="nms:recipient" _operation="update" _key="@email" email="ann@example.com" firstName="Anna"/>')).text, WRITE_OK, 'update by @email succeeds')
  t.equal((await write(campaign, '<recipient xtkschema="nms:recipient" _operation="update" _key="@email, @lastName" email="bob@example.com" lastName="Ray" city="Lyon"/>')).text, WRITE_OK,
    'update by a composite key succeeds')
  t.equal((await write(campaign, '<recipient xtkschema="nms:recipient" id="10000" phone="555"/>')).text, WRITE_OK, 'insertOrUpdate (the default) with a matching @id updates')
  t.equal((await write(campaign, '<recipient xtkschema="nms:recipient" _operation="insertOrUpdate" _key="@email" email="cy@example.com" firstName="Cy"/>')).text, WRITE_OK,
    'insertOrUpdate with no match inserts')
  t.equal((await write(campaign, '<recipient xtkschema="nms:recipient" _operation="delete" _key="@email" email="bob@example.com"/>')).text, WRITE_OK, 'delete by @email succeeds')
  t.equal((await write(campaign, '<recipient xtkschema="nms:recipient" _operation="delete" _key="@email" email="nobody@example.com"/>')).text, WRITE_OK, 'deleting a missing row is not an error')
  t.same(campaign.store.rows('nms:recipient'), [
    { email: 'ann@example.com', lastName: 'Lee', firstName: 'Anna', id: '10000', phone: '555' },
    { email: 'cy@example.com', firstName: 'Cy', id: '10002' },
  ], 'the table holds the updated Ann and the inserted Cy; Bob was deleted')
})

t.test('ExecuteQuery: select with nodes and conditions, get, getIfExists, count, lineCount, !=', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true })
  for (const [email, city, age] of [['ann@example.com', 'Paris', '31'], ['bob@example.com', 'Lyon', '45'], ['cy@example.com', 'Paris', '27']] as const) {
    await write(campaign, `<recipient xtkschema="nms:recipient" _operation="insert" email="${email}" city="${city}" age="${age}"/>`)
  }
  const select = await query(campaign, '<queryDef schema="nms:recipient" operation="select"><select><node expr="@email"/><node expr=" @phone "/><comment/></select>' +
    "<where><condition expr=\"@city = 'Paris'\"/><condition expr='@age != 31'/><note/></where></queryDef>")
  t.equal(select.text, output('<recipient-collection><recipient email="cy@example.com"/></recipient-collection>'),
    'conditions are ANDed, != excludes, absent fields are left out and other elements are ignored')
  t.equal((await query(campaign, "<queryDef schema=\"nms:recipient\"><select><node expr=\"@email\"/></select><where><condition expr=\"@city != 'Paris'\"/></where></queryDef>")).text,
    output('<recipient-collection><recipient email="bob@example.com"/></recipient-collection>'), 'the default operation is select')
  t.equal((await query(campaign, '<queryDef schema="nms:recipient" operation="select" lineCount="2"><select><node expr="@email"/></select></queryDef>')).text,
    output('<recipient-collection><recipient email="ann@example.com"/><recipient email="bob@example.com"/></recipient-collection>'), 'lineCount limits the rows')
  t.equal((await query(campaign, '<queryDef schema="nms:recipient" operation="get"><select><node expr="@city"/></select><where><condition expr="@age = 45"/></where></queryDef>')).text,
    output('<recipient city="Lyon"/>'), 'get returns the one matching row, by numeric comparison')
  t.equal((await query(campaign, "<queryDef schema=\"nms:recipient\" operation=\"getIfExists\"><where><condition expr=\"@email='ann@example.com'\"/></where></queryDef>")).text,
    output('<recipient email="ann@example.com" city="Paris" age="31" id="10000"/>'), 'getIfExists returns the whole matching row')
  t.equal((await query(campaign, "<queryDef schema=\"nms:recipient\" operation=\"getIfExists\"><where><condition expr=\"@email='zed@example.com'\"/></where></queryDef>")).text,
    output('<recipient/>'), 'getIfExists without a match returns an empty element')
  t.equal((await query(campaign, "<queryDef schema=\"nms:recipient\" operation=\"count\"><where><condition expr=\"@city = 'Paris'\"/></where></queryDef>")).text,
    output('<recipient count="2"/>'), 'count counts the matching rows')
  t.equal((await query(campaign, '<queryDef schema="nms:webApp" operation="select"/>')).text, output('<webApp-collection></webApp-collection>'), 'an unknown table is empty')
  t.equal((await query(campaign, "<queryDef schema=\"nms:extAccount\" operation=\"select\"><select><node expr=\"@id\"/><node expr=\"@name\"/></select><where><condition expr=\"@type = '1'\"/></where></queryDef>")).text,
    output('<extAccount-collection><extAccount id="1817" name="defaultEmailBulk"/><extAccount id="1818" name="defaultOther"/></extAccount-collection>'), 'the seeded external accounts can be queried')
  t.equal((await query(campaign, "<queryDef schema=\"xtk:operator\" operation=\"get\"><select><node expr=\"@id\"/></select><where><condition expr=\"@name = 'crm_operator'\"/></where></queryDef>")).text,
    output('<operator id="1061"/>'), 'so can the operators')
})

t.test('Write errors are SOP-330011 faults with the detail', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true })
  t.equal((await write(campaign, '<recipient _operation="insert" email="a@example.com"/>')).text, writeError('element <recipient> has no xtkschema attribute'), 'a missing xtkschema is refused')
  t.equal((await write(campaign, '<recipient xtkschema="nms:recipient" _operation="upsert" email="a@example.com"/>')).text, writeError("unsupported _operation 'upsert'"), 'an unsupported operation is refused')
  const update = await write(campaign, '<recipient xtkschema="nms:recipient" _operation="update" _key="@email" email="a@example.com"/>')
  t.equal(update.status, 500, 'an update with no match is answered 500')
  t.equal(update.text, writeError('no nms:recipient record matches @email for update'), 'and says no record matches')
  t.equal((await write(campaign, '<recipient xtkschema="nms:recipient" _operation="update" firstName="X"/>')).text, writeError('no nms:recipient record matches @id for update'),
    'an update without the key attribute matches nothing')
  t.equal((await call(campaign, { schema: 'xtk:persist', method: 'Write', sessionToken: ADMIN })).text, writeError('Write needs a document.', 'xtk:persist'), 'a Write without a document is refused')
  t.same(campaign.store.rows('nms:recipient'), [], 'nothing was written')
})

t.test('ExecuteQuery errors are SOP-330011 faults with the detail', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true })
  t.equal((await query(campaign, '<queryDef operation="select"/>')).text, queryError('queryDef has no schema attribute'), 'a missing schema is refused')
  t.equal((await query(campaign, '<queryDef schema="nms:recipient" operation="update"/>')).text, queryError("unsupported queryDef operation 'update'"), 'an unsupported operation is refused')
  t.equal((await query(campaign, "<queryDef schema=\"nms:recipient\" operation=\"get\"><where><condition expr=\"@email = 'x'\"/></where></queryDef>")).text,
    queryError('no nms:recipient record matches the query'), 'get with no result is refused')
  t.equal((await query(campaign, "<queryDef schema=\"nms:recipient\"><where><condition expr=\"Lower(@email) LIKE 'a%'\"/></where></queryDef>")).text,
    queryError("unsupported condition 'Lower(@email) LIKE 'a%'' (the simulator supports @attribute or [link/@attribute] = 'value')"), 'an unsupported condition is refused')
  t.equal((await query(campaign, '<queryDef schema="nms:recipient"><where><condition/></where></queryDef>')).text,
    queryError("unsupported condition '' (the simulator supports @attribute or [link/@attribute] = 'value')"), 'a condition without expr is refused')
  t.equal((await query(campaign, '<queryDef schema="nms:recipient"><select><node expr="[@email]"/></select></queryDef>')).text,
    queryError("unsupported select expression '[@email]' (the simulator supports @attribute, [link/@attribute] and the element nodes of a schema)"), 'an unsupported select expression is refused')
  t.equal((await query(campaign, '<queryDef schema="nms:recipient"><select><node/></select></queryDef>')).text,
    queryError("unsupported select expression '' (the simulator supports @attribute, [link/@attribute] and the element nodes of a schema)"), 'a node without expr is refused')
  const needsQueryDef = queryError('ExecuteQuery needs a <queryDef> document.')
  t.equal((await query(campaign, '<select/>')).text, needsQueryDef, 'a document that is not a queryDef is refused')
  t.equal((await call(campaign, { schema: 'xtk:queryDef', method: 'ExecuteQuery', sessionToken: ADMIN })).text, needsQueryDef, 'a call without a document is refused')
})

t.test('PushEvent / PushEvents return increasing ids from firstEventId, recorded with the operator', async t => {
  const { ims, campaign } = await startSims(t, { allowUserPassword: true, firstEventId: 5000 })
  const push = (sessionToken: string, doc: string, headers = {}): Promise<HttpResult> =>
    call(campaign, { schema: 'nms:rtEvent', method: 'PushEvent', sessionToken, params: [['domEvent', { xml: doc }]] }, headers)
  const first = await push('mc/mc-password', '<rtEvent type="order_confirmation" email="ann@example.com" origin="web"><ctx><orderId>A-17</orderId></ctx></rtEvent>')
  t.equal(first.text, expectedResponse('urn:nms:rtEvent', 'PushEvent', [scalarOut('plId', 'long', 5000)]), 'the first event gets firstEventId, as an xsd:long plId')
  const token = await imsToken(ims)
  const second = await push('', '<rtEvent type="password_reset" email="bob@example.com"/>', { authorization: `Bearer ${token}` })
  t.equal(second.text, expectedResponse('urn:nms:rtEvent', 'PushEvent', [scalarOut('plId', 'long', 5001)]), 'the next one gets firstEventId + 1')
  const batch = await call(campaign, {
    schema: 'nms:rtEvent',
    method: 'PushEvents',
    sessionToken: 'mc/mc-password',
    params: [['domEventCollection', { xml: '<rtEvent-collection><rtEvent type="a" email="c@example.com"/><rtEvent email="d@example.com"/></rtEvent-collection>' }]],
  })
  t.equal(batch.text, expectedResponse('urn:nms:rtEvent', 'PushEvents', [elementOut('pdomIds', '<rtEvent-collection><rtEvent id="5002"/><rtEvent id="5003"/></rtEvent-collection>')]),
    'PushEvents returns one id per event, continuing the sequence')
  t.same(campaign.events, [
    { id: 5000, type: 'order_confirmation', attributes: { type: 'order_confirmation', email: 'ann@example.com', origin: 'web' }, operator: 'mc' },
    { id: 5001, type: 'password_reset', attributes: { type: 'password_reset', email: 'bob@example.com' }, operator: CLIENT_OPERATOR },
    { id: 5002, type: 'a', attributes: { type: 'a', email: 'c@example.com' }, operator: 'mc' },
    { id: 5003, type: undefined, attributes: { email: 'd@example.com' }, operator: 'mc' },
  ], 'every event is recorded with its attributes and the operator who pushed it')

  const empty = await call(campaign, { schema: 'nms:rtEvent', method: 'PushEvents', sessionToken: 'mc/mc-password' })
  t.equal(empty.text, expectedResponse('urn:nms:rtEvent', 'PushEvents', [elementOut('pdomIds', '<rtEvent-collection></rtEvent-collection>')]), 'PushEvents without events returns an empty collection')
  const missing = await call(campaign, { schema: 'nms:rtEvent', method: 'PushEvent', sessionToken: 'mc/mc-password' })
  t.equal(missing.text, expectedFault(MESSAGES.methodError('nms:rtEvent', 'PushEvent'), 'PushEvent needs an <rtEvent> document.'), 'PushEvent without an event is refused with SOP-330011')
  t.equal(campaign.events.length, 4, 'nothing more was recorded')
})

t.test('PushEvent requires authentication', async t => {
  const { campaign } = await startSims(t)
  const response = await call(campaign, { schema: 'nms:rtEvent', method: 'PushEvent', params: [['domEvent', { xml: '<rtEvent type="x"/>' }]] })
  t.equal(response.text, expectedFault(MESSAGES.sessionInvalid), 'an anonymous PushEvent is refused with XSV-350008')
  t.same(campaign.events, [], 'and not recorded')
})

t.test('GetEntityIfMoreRecent returns schema documents', async t => {
  const { campaign } = await startSims(t, { allowUserPassword: true })
  const entity = (pk: string | undefined, schema = 'xtk:persist'): Promise<HttpResult> =>
    call(campaign, { schema, method: 'GetEntityIfMoreRecent', sessionToken: ADMIN, params: pk === undefined ? [] : [['pk', pk], ['md5', ''], ['mustExist', 'false']] })
  const doc = (xml: string, urn = 'urn:xtk:persist'): string => expectedResponse(urn, 'GetEntityIfMoreRecent', [elementOut('pdomDoc', xml)])
  t.equal((await entity('xtk:schema|nms:rtEvent')).text, doc('<schema namespace="nms" name="rtEvent"><element name="rtEvent"/><methods>' +
    '<method name="PushEvent" static="true"><parameters><param name="domEvent" type="DOMDocument" desc="Event."/>' +
    '<param name="id" type="int64" inout="out" desc="Technical identifier of the inserted event"/></parameters></method>' +
    '<method name="PushEvents" static="true"><parameters><param name="domEventCollection" type="DOMDocument" desc="Events."/>' +
    '<param name="ids" type="DOMDocument" inout="out" desc="Technical identifiers of the inserted events"/></parameters></method></methods></schema>'),
  'nms:rtEvent is described with its elements and methods')
  const session = await entity('xtk:schema|xtk:session', 'xtk:session')
  t.match(session.text, '<schema namespace="xtk" name="session" implements="xtk:persist"><interface name="persist"><method name="Write" static="true">', 'xtk:session implements the persist interface')
  t.match(session.text, '<method name="Logoff" static="true"></method>', 'a method without parameters has no parameters element')
  t.match(session.text, /^<GetEntityIfMoreRecentResponse xmlns='urn:xtk:session' /m, 'the response is in the namespace called')
  t.match((await entity('xtk:schema|xtk:queryDef')).text, '<method name="ExecuteQuery" const="true"><parameters><param name="output" type="DOMDocument" inout="out" desc="Output XML document"/>',
    'xtk:queryDef has the const ExecuteQuery')
  t.equal((await entity('xtk:schema|nms:delivery')).text, doc(''), 'an unknown schema returns an empty document')
  t.equal((await entity('nms:recipient|10000')).text, doc(''), 'a non-schema entity returns an empty document')
  t.equal((await entity(undefined)).text, doc(''), 'no pk returns an empty document')
})
