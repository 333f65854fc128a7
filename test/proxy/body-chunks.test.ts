// A body read whole in several chunks (docs/architecture.md#body-paths):
// kept as it came when its first chunk holds what the proxy locates, joined
// otherwise, checked to its last byte either way, and rewritten to the same
// bytes as the same body in one buffer.
import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import fc from 'fast-check'
import t from 'tap'
import { credentialRanges, isKept, MAX_KEPT_CHUNKS, outgoingBody, readRequestBody, type BodyLimits, type KeptBody } from '../../src/proxy/body.js'
import { ProxyFault } from '../../src/soap/faults.js'
import { soapEnvelope } from '../fixtures/soap.js'

const LIMITS: BodyLimits = { maxBodyBytes: 1024 * 1024, replayLimitBytes: 64 * 1024, headBytes: 16 * 1024 }
const TOKEN = 'a-campaign-session-token'
const CALL = soapEnvelope({ schema: 'xtk:session', method: 'GetOption', sessionToken: TOKEN, params: [['name', 'XtkDatabaseId']] })
  .replace('</SOAP-ENV:Body>', `<!-- ${'padding '.repeat(200)}--></SOAP-ENV:Body>`)
const REWRITTEN = CALL.replace(`>${TOKEN}<`, '><')

/** A source that hands on `chunks` one by one, as a socket's reads would. */
const source = (chunks: readonly string[]): IncomingMessage => Readable.from(chunks.map(chunk => Buffer.from(chunk)), { objectMode: true }) as unknown as IncomingMessage

/** `text` cut at `cuts` (offsets, any order). */
function split (text: string, cuts: readonly number[]): string[] {
  const at = [...new Set(cuts)].filter(n => n > 0 && n < text.length).sort((a, b) => a - b)
  return [0, ...at].map((from, i) => text.slice(from, at[i] ?? text.length))
}

const bytesOf = (body: KeptBody): Buffer => Buffer.isBuffer(body) ? body : Buffer.concat(body)

/** What the proxy would send for `chunks`, or the fault it refuses them with. */
async function rewrite (chunks: readonly string[], declared: boolean, limits = LIMITS): Promise<{ body: KeptBody, length: number | undefined } | string> {
  const text = chunks.join('')
  try {
    const read = await readRequestBody(source(chunks), declared ? Buffer.byteLength(text) : undefined, limits)
    const out = outgoingBody(read, credentialRanges(read.location), limits.maxBodyBytes)
    if (!isKept(out.body)) throw new Error('a body under the replay limit was streamed')
    return { body: out.body, length: out.length }
  } catch (err) {
    if (err instanceof ProxyFault) return err.fault
    throw err
  }
}

t.test('several chunks, the token in the first: kept as they came, the token emptied in place', async t => {
  const cut = CALL.indexOf('<name')
  const result = await rewrite([CALL.slice(0, cut), CALL.slice(cut, 900), CALL.slice(900)], true)
  if (typeof result === 'string') return t.fail(`refused: ${result}`)
  t.ok(Array.isArray(result.body), 'the chunks, not one joined buffer')
  t.equal((result.body as readonly Buffer[]).length, 3, 'all three')
  t.equal(bytesOf(result.body).toString(), REWRITTEN, 'the token emptied, every other byte kept')
  t.equal(result.length, Buffer.byteLength(REWRITTEN), 'its exact length')
})

t.test('several chunks, the token beyond the first: joined, then rewritten', async t => {
  const result = await rewrite([CALL.slice(0, 40), CALL.slice(40)], true)
  if (typeof result === 'string') return t.fail(`refused: ${result}`)
  t.ok(Buffer.isBuffer(result.body), 'one buffer')
  t.equal(bytesOf(result.body).toString(), REWRITTEN, 'the token emptied')
  t.equal(result.length, Buffer.byteLength(REWRITTEN), 'its exact length')
})

t.test('a body without Content-Length read whole in several chunks is kept as they came', async t => {
  const cut = CALL.indexOf('<name')
  const result = await rewrite([CALL.slice(0, cut), CALL.slice(cut)], false)
  if (typeof result === 'string') return t.fail(`refused: ${result}`)
  t.ok(Array.isArray(result.body), 'the chunks')
  t.equal(bytesOf(result.body).toString(), REWRITTEN, 'the token emptied')
})

t.test('a later chunk is checked to its last byte', async t => {
  const cut = CALL.indexOf('<name')
  const broken = CALL.replace('</SOAP-ENV:Body>', '</SOAP-ENV:Bdoy>')
  t.equal(await rewrite([broken.slice(0, cut), broken.slice(cut)], true), 'notXml', 'an end tag that does not match, in the second chunk')
  const cutShort = CALL.slice(0, -5)
  t.equal(await rewrite([cutShort.slice(0, cut), cutShort.slice(cut)], true), 'notXml', 'a body that ends inside markup')
  const trailing = `${CALL}<extra/>`
  t.equal(await rewrite([trailing.slice(0, cut), trailing.slice(cut)], true), 'badStructure', 'a second root element after the Envelope')
})

t.test('a body that came in more chunks than are kept is joined', async t => {
  const limits = { ...LIMITS, replayLimitBytes: 1024 * 1024 }
  const big = CALL.replace('<!-- ', `<!-- ${'padding '.repeat(40_000)}`)
  const cut = big.indexOf('<name')
  /** The head up to the token's end, then the rest in pieces of `size` bytes (not small: kept as they come while read). */
  const piecesOf = (size: number): string[] => [big.slice(0, cut), ...Array.from({ length: Math.ceil((big.length - cut) / size) }, (_, i) => big.slice(cut + i * size, cut + (i + 1) * size))]
  const many = piecesOf(4096)
  t.ok(many.length > MAX_KEPT_CHUNKS, `${many.length} chunks`)
  const joinedResult = await rewrite(many, true, limits)
  if (typeof joinedResult === 'string') return t.fail(`refused: ${joinedResult}`)
  t.ok(Buffer.isBuffer(joinedResult.body), 'more than the bound: one buffer, not a write per chunk')
  t.equal(bytesOf(joinedResult.body).toString(), big.replace(`>${TOKEN}<`, '><'), 'the token emptied')
  const few = piecesOf(8192)
  const kept = await rewrite(few, true, limits)
  if (typeof kept === 'string') return t.fail(`refused: ${kept}`)
  t.equal(Array.isArray(kept.body) ? kept.body.length : 0, few.length, `${few.length} chunks, within the bound: kept as they came`)
  t.equal(bytesOf(kept.body).toString(), big.replace(`>${TOKEN}<`, '><'), 'the token emptied')
})

t.test('a body in one chunk is one buffer', async t => {
  const result = await rewrite([CALL], true)
  if (typeof result === 'string') return t.fail(`refused: ${result}`)
  t.ok(Buffer.isBuffer(result.body), 'no list')
  t.equal(bytesOf(result.body).toString(), REWRITTEN, 'the token emptied')
})

t.test('which bodies are kept', async t => {
  t.ok(isKept(Buffer.from('x')), 'a buffer')
  t.ok(isKept([Buffer.from('x'), Buffer.from('y')]), 'a list of chunks')
  t.notOk(isKept(Readable.from([])), 'a stream')
})

t.test('property: however a body is cut into chunks, the proxy sends the bytes (or refuses with the fault) it does for the body in one piece', async t => {
  const bodies = [
    CALL,
    CALL.replace('</SOAP-ENV:Body>', '</SOAP-ENV:Bdoy>'),
    CALL.replace(`>${TOKEN}<`, `><![CDATA[${TOKEN}]]><`),
    CALL.replace('<name', '<!-- a comment --><name'),
    CALL.slice(0, -20),
    `${CALL}<!-- after -->`,
    `${CALL}text`,
  ]
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(...bodies),
    fc.array(fc.nat({ max: CALL.length + 20 }), { minLength: 1, maxLength: 4 }),
    fc.boolean(),
    async (body, cuts, declared) => {
      const expected = await rewrite([body], declared)
      const actual = await rewrite(split(body, cuts), declared)
      if (typeof expected === 'string' || typeof actual === 'string') return actual === expected
      return bytesOf(actual.body).equals(bytesOf(expected.body)) && actual.length === expected.length
    },
  ), { numRuns: 300 })
  t.pass('the same bytes, or the same fault')
})
