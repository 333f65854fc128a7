// The schema table behind the Campaign simulator, called directly for what
// no SOAP call reaches: interface lookups, unknown schemas, output pairing.
import t from 'tap'
import { findMethod, findSchema, methodOutputs } from '../../src/sim/campaign-schemas.js'

t.test('findMethod looks in the schema, then its interfaces', async t => {
  t.equal(findMethod('xtk:session', 'Logon')?.name, 'Logon', "a schema's own method is found")
  t.same(findMethod('xtk:session', 'Write')?.params.map(p => p.name), ['doc'], 'a method of an implemented interface (xtk:persist#Write) is found through xtk:session')
  t.equal(findMethod('xtk:queryDef', 'Write'), undefined, 'a schema without interfaces does not have Write')
  t.equal(findMethod('nms:delivery', 'Prepare'), undefined, 'an unknown schema has no methods')
  t.equal(findSchema('nms:delivery'), undefined, 'and is not found')
})

t.test('methodOutputs pairs out-parameters with values, in order', async t => {
  const logon = findMethod('xtk:session', 'Logon')
  if (logon === undefined) throw new Error('xtk:session#Logon is missing')
  t.same(methodOutputs(logon, ['___t', '<sessionInfo/>', '@s']), [
    { name: 'pstrSessionToken', type: 'string', value: '___t' },
    { name: 'pSessionInfo', type: 'element', xml: '<sessionInfo/>' },
    { name: 'pstrSecurityToken', type: 'string', value: '@s' },
  ], 'strings become xsd:string outputs and DOM elements raw XML, with Campaign names')
  t.throws(() => methodOutputs(logon, ['___t']), new Error('Logon has 3 outputs, got 1 values'), 'a wrong number of values is a programming error')
  t.same(methodOutputs({ name: 'Check', params: [{ name: 'ok', type: 'boolean', inout: 'out' }, { name: 'count', type: 'long', inout: 'out' }] }, [true, 3]),
    [{ name: 'pbOk', type: 'boolean', value: true }, { name: 'plCount', type: 'int', value: 3 }], 'booleans and longs get pb / pl names and xsd types')
})
