// The SOAP router lane on its own: which requests it takes from Fastify,
// and its reply sending answers as Fastify's does (exact Content-Length,
// 204 without framing, streams piped, a stream failing before its first
// byte answered as a fault, after it the connection cut, a client going
// away destroying the source).
import { once } from 'node:events'
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import t, { type Test } from 'tap'
import type { FastifyBaseLogger } from 'fastify'
import { isLaneRequest, LaneReply, LaneRequest, soapRouterLane, type FaultAnswer } from '../../src/proxy/lane.js'

t.test('the lane takes POST /nl/jsp/soaprouter.jsp with a valid media type, and nothing else', async t => {
  const cases: Array<[string, string, string | undefined, boolean]> = [
    ['POST', '/nl/jsp/soaprouter.jsp', 'text/xml; charset=utf-8', true],
    ['POST', '/nl/jsp/soaprouter.jsp?x=1', 'text/xml', true],
    ['POST', '/nl/jsp/soaprouter.jsp', 'application/soap+xml;charset=UTF-8;action="xtk:session#Logon"', true],
    ['POST', '/nl/jsp/soaprouter.jspx', 'text/xml', false],
    ['POST', '/nl/jsp/soaprouter.jsp/', 'text/xml', false],
    ['POST', '/nl/jsp/SOAPROUTER.jsp', 'text/xml', false],
    ['GET', '/nl/jsp/soaprouter.jsp', 'text/xml', false],
    ['PUT', '/nl/jsp/soaprouter.jsp', 'text/xml', false],
    ['POST', '/nl/jsp/soaprouter.jsp', undefined, false],
    ['POST', '/nl/jsp/soaprouter.jsp', 'not a media type', false],
    ['POST', '/nl/jsp/soaprouter.jsp', '', false],
  ]
  for (const [method, url, contentType, expected] of cases) {
    const request = { method, url, headers: contentType === undefined ? {} : { 'content-type': contentType } } as unknown as IncomingMessage
    t.equal(isLaneRequest(request), expected, `${method} ${url} ${String(contentType)}: ${expected ? 'the lane' : 'Fastify'}`)
  }
})

interface Answer { status: number, headers: IncomingMessage['headers'], body: string }

/** A server whose every request is answered by `answer` through a LaneReply; faults are answered by `fault`. */
async function laneServer (t: Test, answer: (reply: LaneReply) => void, fault: FaultAnswer, log: FastifyBaseLogger = silent): Promise<string> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume()
    answer(new LaneReply(res, new LaneRequest(req, 'req-1', log), fault))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const silent = { warn: () => {}, info: () => {}, error: () => {}, debug: () => {} } as unknown as FastifyBaseLogger
const noFault: FaultAnswer = () => { throw new Error('no fault expected') }

async function get (url: string): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', body: 'x' })
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() }
}

t.test('a buffer gets its exact Content-Length, a 204 none, a stream is piped', async t => {
  const url = await laneServer(t, reply => {
    const path = reply.request.url
    if (path === '/buffer') reply.code(200).headers({ 'content-type': 'text/xml', 'content-length': '999', 'x-campaign': 'kept' }).send(Buffer.from('<a/>'))
    else if (path === '/text') reply.code(500).header('X-Request-Id', 'req-1').type('text/xml').send('<fault/>')
    else if (path === '/empty') reply.code(204).headers({ 'content-type': 'text/xml', 'content-length': '0' }).send(Buffer.alloc(0))
    else reply.code(200).headers({ 'content-type': 'text/xml', 'content-length': '11' }).send(Readable.from([Buffer.from('<a>'), Buffer.from('streamed'), Buffer.from('')]))
  }, noFault)
  const buffer = await get(`${url}/buffer`)
  t.same([buffer.status, buffer.headers['content-length'], buffer.headers['x-campaign'], buffer.body], [200, '4', 'kept', '<a/>'], 'a buffer: the length of what is sent, whatever was declared')
  const text = await get(`${url}/text`)
  t.same([text.status, text.headers['content-length'], text.headers['x-request-id'], text.headers['content-type'], text.body], [500, '8', 'req-1', 'text/xml', '<fault/>'], 'a string: its byte length, names in lower case')
  const empty = await get(`${url}/empty`)
  t.same([empty.status, empty.headers['content-length'], empty.headers['content-type'], empty.body], [204, undefined, undefined, ''], '204: no Content-Type, no Content-Length')
  const streamed = await get(`${url}/stream`)
  t.same([streamed.status, streamed.headers['content-length'], streamed.body], [200, '11', '<a>streamed'], 'a stream: piped with its declared length')
})

t.test('a stream failing before its first byte is answered as a fault, without the stream\'s framing', async t => {
  const faults: unknown[] = []
  const url = await laneServer(t, reply => {
    const failing = new Readable({ read () { this.destroy(new Error('upstream went away')) } })
    reply.code(200).headers({ 'content-type': 'text/xml', 'content-length': '5000', 'x-campaign': 'kept' }).send(failing)
  }, (err, request, reply) => {
    faults.push(err)
    t.equal((reply as LaneReply).sent, false, 'nothing was sent yet')
    reply.header('X-Request-Id', request.id).code(502).type('text/xml').send('<fault>upstream</fault>')
  })
  const answer = await get(url)
  t.same([answer.status, answer.headers['content-length'], answer.headers['content-type'], answer.headers['x-request-id'], answer.body], [502, '23', 'text/xml', 'req-1', '<fault>upstream</fault>'], 'the fault, framed as its own')
  t.equal(faults.length, 1, 'the fault handler was called once')
  t.match(faults[0], { message: 'upstream went away' }, 'with the stream\'s error')
})

t.test('a stream failing after its first bytes cuts the connection and is logged once', async t => {
  const warnings: unknown[] = []
  const log = { ...silent, warn: (obj: unknown) => { warnings.push(obj) } } as unknown as FastifyBaseLogger
  const url = await laneServer(t, reply => {
    let sent = false
    const failing = new Readable({
      read () {
        if (!sent) { sent = true; this.push(Buffer.from('<a>')); return }
        setImmediate(() => { this.destroy(new Error('cut mid-answer')) })
      },
    })
    reply.code(200).headers({ 'content-type': 'text/xml' }).send(failing)
  }, noFault, log)
  const outcome = await new Promise<string>(resolve => {
    const req = httpRequest(url, { method: 'POST' }, res => {
      res.on('data', () => {})
      res.on('error', () => { resolve('cut') })
      res.on('end', () => { resolve('ended') })
    })
    req.on('error', () => { resolve('cut') })
    req.end('x')
  })
  t.equal(outcome, 'cut', 'the client sees the answer cut, not a complete one')
  t.equal(warnings.length, 1, 'one warning')
  t.match(warnings[0], { err: { message: 'cut mid-answer' } }, 'naming the stream\'s error')
})

t.test('a client going away mid-answer destroys the source', async t => {
  let source: Readable | undefined
  const url = await laneServer(t, reply => {
    let pushed = false
    source = new Readable({ read () { if (!pushed) { pushed = true; this.push(Buffer.from('<a>')) } } })
    reply.code(200).headers({ 'content-type': 'text/xml' }).send(source)
  }, noFault)
  await new Promise<void>(resolve => {
    const req = httpRequest(url, { method: 'POST' }, res => {
      res.once('data', () => { req.destroy(); resolve() })
    })
    req.on('error', () => {})
    req.end('x')
  })
  const stream = source as Readable
  if (!stream.destroyed) await once(stream, 'close')
  t.equal(stream.destroyed, true, 'the source is destroyed')
})

t.test('an error of the flow after its answer started is logged, the connection cut, nothing sent twice', async t => {
  const errors: unknown[] = []
  const log = { ...silent, error: (obj: unknown) => { errors.push(obj) }, child: () => log } as unknown as FastifyBaseLogger
  const faults: unknown[] = []
  const lane = soapRouterLane({
    handle: async (_request, reply) => {
      let pushed = false
      reply.code(200).type('text/xml').send(new Readable({ read () { if (!pushed) { pushed = true; this.push('<a>') } } }))
      while (!reply.raw.headersSent) await new Promise(resolve => setImmediate(resolve))
      throw new Error('late failure')
    },
    fault: (err) => { faults.push(err) },
    record: () => {},
    log,
    isClosing: () => false,
  })
  const server = createServer((req, res) => { if (!lane(req, res)) res.writeHead(404).end() })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const port = (server.address() as AddressInfo).port
  const outcome = await new Promise<string>(resolve => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/nl/jsp/soaprouter.jsp', headers: { 'content-type': 'text/xml' } }, res => {
      res.on('data', () => {})
      res.on('error', () => { resolve(`cut after ${res.statusCode ?? 0}`) })
      res.on('end', () => { resolve('ended') })
    })
    req.on('error', () => { resolve('cut before an answer') })
    req.end('<x/>')
  })
  t.equal(outcome, 'cut after 200', 'the answer that started is cut')
  t.same(faults, [], 'no fault answer on top of it')
  t.equal(errors.length, 1, 'the error is logged once')
  t.match(errors[0], { err: { message: 'late failure' } })
})
