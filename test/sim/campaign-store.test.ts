// The simulator's store is bounded (docs/simulators.md): a full store
// refuses inserts and growing updates with a QueryError, deletes free room.
import t from 'tap'
import { CampaignStore, QueryError } from '../../src/sim/campaign-store.js'
import { parseXml } from '../../src/soap/xml-tree.js'

const FULL = /the simulator's store is full \(at most 3 rows and 60 characters\): restart the simulator/

t.test('rows and characters are bounded', async t => {
  const store = new CampaignStore({ 'nms:a': [{ id: '1', v: 'x' }] }, { maxRows: 3, maxBytes: 60 })
  store.insert('nms:a', { id: '2', v: 'y' })
  store.write(parseXml('<a xtkschema="nms:b" _operation="insert" id="3"/>'))
  t.throws(() => store.insert('nms:a', { id: '4' }), FULL, 'a fourth row is refused')
  t.throws(() => store.write(parseXml('<a xtkschema="nms:c" _operation="insert" id="4"/>')), QueryError, 'through Write too')
  t.same(store.rows('nms:c'), [], 'and no table is left behind')
  t.throws(() => store.upsert('nms:a', { id: '1' }, { v: 'x'.repeat(60) }), FULL, 'an update beyond the characters is refused')
  t.same(store.rows('nms:a')[0], { id: '1', v: 'x' }, 'and leaves the row as it was')
  store.write(parseXml('<a xtkschema="nms:a" _operation="delete" id="2"/>'))
  store.write(parseXml('<a xtkschema="nms:z" _operation="delete" id="2"/>'))
  t.same(store.upsert('nms:a', { id: '5' }, { v: 'new' }), { id: '5', v: 'new' }, 'the delete made room: upsert inserts when nothing matches')
  t.same(store.upsert('nms:a', { id: '5' }, { v: 'newer' }), { id: '5', v: 'newer' }, 'and updates when a row matches')
  t.same(store.rows('nms:a').map(r => r.id), ['1', '5'], 'one row each')
})

t.test('the defaults are generous but finite', async t => {
  const store = new CampaignStore()
  const big = 'x'.repeat(1024 * 1024)
  for (let i = 0; i < 31; i++) store.insert('nms:big', { v: big })
  t.throws(() => store.insert('nms:big', { v: big }), /at most 50000 rows and 33554432 characters/, 'about 32 MiB of values at most')
})
