// readSoapHead reads a streamed body only until the method is located within
// the head limit, and hands back the unread rest, wherever the chunks split.
import assert from 'node:assert/strict'
import fc from 'fast-check'
import t from 'tap'
import { ProxyFault } from '../../src/soap/faults.js'
import { DEFAULT_MAX_PARAM_BYTES, readSoapHead, type SoapLocation } from '../../src/soap/locate.js'
import { envelopeArbitrary, limitsArbitrary, render } from '../fixtures/soap-envelope-arbitrary.js'
import { locate } from '../fixtures/soap-locate.js'

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/'
const BODY = Buffer.from(`<s:Envelope xmlns:s="${SOAP11}"><s:Body><m:PushEvent xmlns:m="urn:nms:rtEvent"><sessiontoken>tok</sessiontoken>` +
  `<domEvent><rtEvent type="t">${'<ctx x="y"/>'.repeat(1000)}</rtEvent></domEvent></m:PushEvent></s:Body></s:Envelope>`)
/** The token, then the domEvent parameter's budget: the 12 KB domEvent does not fit. */
const HEAD_LENGTH = BODY.indexOf('</sessiontoken>') + '</sessiontoken>'.length + DEFAULT_MAX_PARAM_BYTES

/** An async iterable over `chunks` that records how many were pulled. */
function chunked (chunks: readonly Buffer[]): AsyncIterable<Buffer> & { pulled: number } {
  const source = {
    pulled: 0,
    async * [Symbol.asyncIterator] () {
      for (const chunk of chunks) {
        source.pulled++
        yield chunk
      }
    },
  }
  return source
}

function split (body: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = []
  for (let at = 0; at < body.length; at += size) chunks.push(body.subarray(at, at + size))
  return chunks
}

async function collect (iterable: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of iterable) chunks.push(chunk)
  return Buffer.concat(chunks)
}

async function faultOf (promise: Promise<unknown>): Promise<ProxyFault | undefined> {
  try {
    await promise
    return undefined
  } catch (err) {
    return err instanceof ProxyFault ? err : undefined
  }
}

t.test('the head is read chunk by chunk and the rest is left unread', async t => {
  const source = chunked(split(BODY, 100))
  const { head, location, rest } = await readSoapHead(source, 64 * 1024)
  t.same(location, locate(BODY), 'the location is the complete body location')
  t.equal(location.headLength, HEAD_LENGTH, 'the head ends with the budget of the domEvent parameter')
  t.equal(head.length, 6400, 'the scans at 100, 200, ... 3200 bytes needed more, the one at 6400 found it')
  t.equal(source.pulled, 64, 'no chunk after the head was pulled')
  t.same(Buffer.concat([head, await collect(rest)]), BODY, 'the head followed by the rest is the body')
})

t.test('one-byte chunks do not make the head reader rescan every byte', async t => {
  const source = chunked(split(BODY, 1))
  const { head, location, rest } = await readSoapHead(source, 64 * 1024)
  t.ok(head.length >= location.headLength, 'the head holds every byte the location needs')
  t.ok(head.length < 2 * location.headLength, 'the head is read up to less than twice what is needed')
  t.same(Buffer.concat([head, await collect(rest)]), BODY, 'the head followed by the rest is the body')
})

t.test('a body that ends is located whole, and nothing is left', async t => {
  const small = Buffer.from(`<s:Envelope xmlns:s="${SOAP11}"><s:Body><m:Logoff xmlns:m="urn:xtk:session"><t>x</t></m:Logoff></s:Body></s:Envelope>`)
  // 60 one-byte chunks then the rest: the last scan before the end is at 64 bytes.
  const { head, location, rest } = await readSoapHead(chunked([...split(small.subarray(0, 60), 1), small.subarray(60)]), 1024)
  t.same(head, small, 'the head is the whole body')
  t.equal(location.soapMethod, 'xtk:session#Logoff', 'the method is located')
  t.equal((await collect(rest)).length, 0, 'the rest is empty')
})

t.test('a body that ends before the method is not XML', async t => {
  const fault = await faultOf(readSoapHead(chunked(split(BODY.subarray(0, 90), 30)), 1024))
  t.equal(fault?.fault, 'notXml', 'a truncated body is refused as notXml')
  t.equal((await faultOf(readSoapHead(chunked([]), 1024)))?.fault, 'notXml', 'an empty body is refused as notXml')
})

t.test('the head limit bounds what is read', async t => {
  const { headLength } = locate(BODY)
  const atLimit = await readSoapHead(chunked(split(BODY, 7)), headLength)
  t.equal(atLimit.location.headLength, headLength, 'a head exactly at the limit is found')
  const fault = await faultOf(readSoapHead(chunked(split(BODY, 7)), headLength - 1))
  t.equal(fault?.fault, 'noMethod', 'a head one byte over the limit is refused as noMethod')
  t.match(fault?.message, /not found in the first \d+ bytes \(head limit\)/, 'the detail names the head limit')
  const padded = Buffer.concat([Buffer.from(`<!--${' '.repeat(5000)}-->`), BODY])
  t.equal((await faultOf(readSoapHead(chunked([padded]), 4096)))?.fault, 'noMethod', 'a single chunk larger than the limit is scanned up to the limit only')
  const big = await readSoapHead(chunked([BODY]), 8192)
  t.same(big.head, BODY, 'a first chunk over the limit is kept whole in the head')
  t.equal(big.location.params[0]?.text, 'tok', 'its location is found within the limit')
})

t.test('refusals and options pass through', async t => {
  t.equal((await faultOf(readSoapHead(chunked([Buffer.from('<!DOCTYPE x>')]), 1024)))?.fault, 'doctype', 'a DOCTYPE is refused at once')
  const { location } = await readSoapHead(chunked([BODY]), 8192, { maxParams: 0 })
  t.same(location.params, [], 'maxParams is applied')
  await t.rejects(readSoapHead(chunked([BODY]), 0), RangeError, 'a head limit of 0 is a programming error')
  await t.rejects(readSoapHead(chunked([BODY]), 1024, { maxParams: -1 }), RangeError, 'a negative maxParams is a programming error')
})

async function * twoChunks (body: Buffer, at: number): AsyncGenerator<Buffer> {
  yield body.subarray(0, at)
  yield body.subarray(at)
}

t.test('every split point gives the same location and loses no byte', async t => {
  await t.resolves(fc.assert(fc.asyncProperty(envelopeArbitrary, async envelope => {
    const body = Buffer.from(render(envelope))
    const expected: SoapLocation = locate(body)
    for (let at = 0; at <= body.length; at++) {
      const { head, location, rest } = await readSoapHead(twoChunks(body, at), 64 * 1024)
      assert.deepEqual(location, expected, `the split at ${at} gives the whole body's location`)
      assert.deepEqual(Buffer.concat([head, await collect(rest)]), body, `the split at ${at} keeps every byte`)
    }
  }), { numRuns: 20 }), 'readSoapHead does not depend on chunk boundaries')
})

t.test('any chunking gives the same location and loses no byte', async t => {
  await t.resolves(fc.assert(fc.asyncProperty(envelopeArbitrary, fc.array(fc.integer({ min: 0, max: 64 }), { maxLength: 40 }), fc.integer({ min: 1, max: 4096 }), limitsArbitrary, async (envelope, sizes, headLimit, limits) => {
    const body = Buffer.from(render(envelope))
    const chunks: Buffer[] = []
    let at = 0
    for (const size of sizes) {
      chunks.push(body.subarray(at, at + size))
      at = Math.min(body.length, at + size)
    }
    chunks.push(body.subarray(at))
    const expected = locate(body, limits)
    const read = readSoapHead(chunked(chunks), headLimit, limits)
    if (expected.headLength > headLimit) {
      assert.equal((await faultOf(read))?.fault, 'noMethod', 'a head longer than the limit is refused')
      return
    }
    const { head, location, rest } = await read
    assert.deepEqual(location, expected, "the chunked body gives the whole body's location")
    assert.deepEqual(Buffer.concat([head, await collect(rest)]), body, 'the chunked body keeps every byte')
  }), { numRuns: 100 }), 'readSoapHead depends neither on chunk sizes nor, below the limit, on the head limit')
})
