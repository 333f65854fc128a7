// emptyRanges removes exactly the given byte ranges and copies every other
// byte, in order.
import t from 'tap'
import fc from 'fast-check'
import { emptyRanges, emptyRangesInPlace } from '../../src/soap/locate.js'

const INPUT = Buffer.from('0123456789')

t.test('the bytes of the ranges are removed, in any order', async t => {
  t.equal(emptyRanges(INPUT, [{ start: 7, end: 9 }, { start: 1, end: 3 }]).toString(), '03456' + '9', 'ranges given out of order are removed')
  t.equal(emptyRanges(INPUT, [{ start: 0, end: 2 }, { start: 2, end: 4 }]).toString(), '456789', 'adjacent ranges are both removed')
  t.equal(emptyRanges(INPUT, [{ start: 8, end: 10 }]).toString(), '01234567', 'a range at the end is removed')
  t.equal(emptyRanges(INPUT, [{ start: 0, end: 10 }]).toString(), '', 'a range over everything leaves nothing')
  t.equal(emptyRanges(INPUT, [{ start: 5, end: 5 }, { start: 5, end: 6 }]).toString(), '012346789', 'an empty range removes nothing')
})

t.test('the result is a copy', async t => {
  const copy = emptyRanges(INPUT, [])
  t.equal(copy.toString(), INPUT.toString(), 'no range gives the same bytes')
  copy[0] = 0x78
  t.equal(INPUT.toString(), '0123456789', 'writing to the result leaves the input as it was')
})

t.test('ranges outside the buffer or overlapping are programming errors', async t => {
  t.throws(() => emptyRanges(INPUT, [{ start: 1, end: 5 }, { start: 4, end: 6 }]), RangeError, 'overlapping ranges are refused')
  t.throws(() => emptyRanges(INPUT, [{ start: 5, end: 11 }]), RangeError, 'a range past the end is refused')
  t.throws(() => emptyRanges(INPUT, [{ start: -1, end: 2 }]), RangeError, 'a negative start is refused')
  t.throws(() => emptyRanges(INPUT, [{ start: 4, end: 3 }]), RangeError, 'a reversed range is refused')
  t.throws(() => emptyRanges(INPUT, [{ start: 1.5, end: 3 }]), RangeError, 'a fractional start is refused')
  t.throws(() => emptyRanges(INPUT, [{ start: 1, end: Number.NaN }]), RangeError, 'a NaN end is refused')
})

t.test('emptyRangesInPlace gives the same bytes as emptyRanges, for any ranges', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(
    fc.uint8Array({ minLength: 0, maxLength: 200 }),
    fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 6 }),
    (bytes, cuts) => {
      const input = Buffer.from(bytes)
      // Disjoint ranges from sorted cut points.
      const points = cuts.flat().map(p => p % (input.length + 1)).sort((a, b) => a - b)
      const ranges = []
      for (let i = 0; i + 1 < points.length; i += 2) ranges.push({ start: points[i] as number, end: points[i + 1] as number })
      const expected = emptyRanges(input, ranges)
      const inPlace = emptyRangesInPlace(Buffer.from(input), [...ranges].reverse())
      if (!inPlace.equals(expected)) throw new Error(`differs for ${JSON.stringify(ranges)}`)
    }), { numRuns: 500 }), 'removing in place, from the end, equals the copy')
  const shared = Buffer.from('<a><t>secret</t><rest>xxxxxxxx</rest></a>')
  const out = emptyRangesInPlace(shared, [{ start: 6, end: 12 }])
  t.equal(out.toString(), '<a><t></t><rest>xxxxxxxx</rest></a>', 'a view of the end of the same memory')
  t.equal(out.buffer, shared.buffer, 'no copy was made')
  t.throws(() => emptyRangesInPlace(Buffer.from('abc'), [{ start: 2, end: 5 }]), RangeError, 'a wrong range is refused as by emptyRanges')
})
