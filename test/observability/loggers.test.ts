import { Writable } from 'node:stream'
import t from 'tap'
import { accessLogger, BatchedDestination, createLogger, isoTime, LOG_BATCH_CHARS, stdoutDestination, type BatchTarget } from '../../src/observability/logger.js'
import { RequestLogger, requestLoggerFactory } from '../../src/observability/request-logger.js'

/** A pino destination keeping every line written to it. */
function lines (): { stream: Writable, written: string[] } {
  const written: string[] = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      written.push(...chunk.toString('utf8').split('\n').filter(line => line !== ''))
      done()
    },
  })
  return { stream, written }
}

const settle = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

t.test('the access line has pino\'s shape, leaves undefined fields out and follows the logger\'s level', async t => {
  const { stream, written } = lines()
  const logger = createLogger('info', stream)
  const access = accessLogger(logger)
  access({ reqId: 'r-1', status: 200, integration: undefined, path: 'a"b\\c\u0001' })
  access({})
  logger.level = 'warn'
  access({ reqId: 'r-2' })
  logger.level = 'debug'
  access({ reqId: 'r-3' })
  await settle()
  t.equal(written.length, 3, 'nothing written at warn')
  const [first, empty, third] = written.map(line => JSON.parse(line) as Record<string, unknown>)
  t.match(first, { level: 30, service: 'campaign-ims-proxy', reqId: 'r-1', status: 200, path: 'a"b\\c\u0001', msg: 'request' })
  t.notOk(Object.hasOwn(first as object, 'integration'), 'undefined fields are left out')
  t.match(String(first?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  t.same(Object.keys(empty as object), ['level', 'time', 'service', 'msg'], 'a line without fields is still JSON')
  t.equal(third?.reqId, 'r-3')
})

t.test('isoTime formats the current millisecond, once per millisecond', async t => {
  const realNow = Date.now
  t.teardown(() => { Date.now = realNow })
  let now = Date.UTC(2026, 11, 1, 17, 30, 0, 123)
  Date.now = () => now
  const first = isoTime()
  t.equal(first, ',"time":"2026-12-01T17:30:00.123Z"')
  t.equal(isoTime(), first, 'the same text within the millisecond')
  now += 1
  t.equal(isoTime(), ',"time":"2026-12-01T17:30:00.124Z"', 'the next millisecond formatted anew')
})

t.test('a request logger makes its child on the first line only, bound to the request id', async t => {
  const { stream, written } = lines()
  const parent = createLogger('trace', stream)
  let children = 0
  const counting = Object.create(parent, { child: { value: (...args: Parameters<typeof parent.child>) => { children += 1; return parent.child(...args) } } }) as typeof parent
  const quiet = requestLoggerFactory(counting, { reqId: 'q-1' }, {})
  t.ok(quiet instanceof RequestLogger)
  t.equal(quiet.level, 'trace', 'the parent\'s level before any line')
  ;(quiet.silent as () => void)()
  t.equal(children, 0, 'no child for a request that does not log')

  const logger = new RequestLogger(counting, { reqId: 'q-2' }, {})
  logger.fatal('f')
  logger.error({ n: 1 }, 'e')
  logger.warn('w')
  logger.info('i')
  logger.debug('d')
  logger.trace('t')
  t.equal(children, 1, 'one child for all its lines')
  logger.level = 'error'
  t.equal(logger.level, 'error', 'the child\'s level once made')
  logger.info('not written')
  const grandchild = logger.child({ step: 'inner' })
  grandchild.error('g')
  await settle()
  const parsed = written.map(line => JSON.parse(line) as { reqId?: string, msg?: string, n?: number, step?: string })
  t.same(parsed.map(line => line.msg), ['f', 'e', 'w', 'i', 'd', 't', 'g'])
  t.ok(parsed.every(line => line.reqId === 'q-2'), 'every line carries the request id')
  t.equal(parsed[1]?.n, 1)
  t.equal(parsed[6]?.step, 'inner')
})

/** A batch target recording what it is handed (and how it was flushed). */
function target (): BatchTarget & { texts: string[], flushes: string[] } {
  const texts: string[] = []
  const flushes: string[] = []
  return {
    texts,
    flushes,
    write (text) { texts.push(text); return true },
    flush (callback) { flushes.push('flush'); callback() },
    flushSync () { flushes.push('flushSync') },
  }
}

t.test('a batched destination hands lines on in order, once the batch is full', async t => {
  const into = target()
  const batched = new BatchedDestination(into, 10, 60_000)
  batched.write('a\n')
  batched.write('bcd\n')
  t.same(into.texts, [], 'below the batch size: waiting')
  batched.write('efgh\n')
  t.same(into.texts, ['a\nbcd\nefgh\n'], 'one write for the three lines')
  batched.write('i\n')
  await new Promise<void>(resolve => { batched.flush(() => { resolve() }) })
  t.same(into.texts, ['a\nbcd\nefgh\n', 'i\n'], 'flush hands on what waits')
  batched.flushSync()
  batched.write('j\n')
  batched.flushSync()
  t.same(into.texts, ['a\nbcd\nefgh\n', 'i\n', 'j\n'], 'nothing handed on twice, nothing empty')
  t.same(into.flushes, ['flush', 'flushSync', 'flushSync'])
})

t.test('a batched destination writes a lone line after its flush time', async t => {
  const into = target()
  const scheduled: Array<{ run: () => void, ms: number, closed: boolean }> = []
  const batched = new BatchedDestination(into, 1_000_000, 5, (run, ms) => {
    const timer = { run, ms, closed: false }
    scheduled.push(timer)
    return { unref: () => undefined, close: () => { timer.closed = true } }
  })
  batched.write('late\n')
  batched.write('later\n')
  t.same(into.texts, [])
  t.same(scheduled.map(s => s.ms), [5], 'one flush scheduled for the batch')
  scheduled[0]?.run()
  t.same(into.texts, ['late\nlater\n'], 'both lines, in one write, without a flush')
  scheduled[0]?.run()
  t.same(into.texts, ['late\nlater\n'], 'a timer that finds nothing waiting writes nothing')
  batched.write('next\n')
  t.equal(scheduled.length, 2, 'a new batch, a new timer')
  batched.flushSync()
  t.equal(scheduled[1]?.closed, true, 'the timer of a batch handed on early is cancelled')
})

t.test('the standard output destination is a batched one in front of sonic-boom', async t => {
  const destination = stdoutDestination()
  t.ok(destination instanceof BatchedDestination)
  t.ok(LOG_BATCH_CHARS >= 4096)
})

t.test('access lines through a batched destination are formatted when the batch is handed on, in their place, with the time they were logged at', async t => {
  const into = target()
  const batched = new BatchedDestination(into, 2000, 60_000)
  const logger = createLogger('info', batched)
  const access = accessLogger(logger)
  const realNow = Date.now
  t.teardown(() => { Date.now = realNow })
  Date.now = () => Date.UTC(2026, 11, 1, 21, 0, 0, 1)
  access({ reqId: 'r-1', status: 200, fault: undefined, path: 'quote " here' })
  Date.now = () => Date.UTC(2026, 11, 1, 21, 0, 0, 2)
  logger.warn({ integration: 'crm' }, 'between')
  access({})
  logger.level = 'warn'
  access({ reqId: 'not logged' })
  t.same(into.texts, [], 'nothing handed on below the batch size')
  Date.now = () => Date.UTC(2026, 11, 1, 21, 0, 5, 0)
  batched.flushSync()
  t.equal(into.texts.length, 1, 'one write')
  const lines = (into.texts[0] as string).trimEnd().split('\n').map(line => JSON.parse(line) as Record<string, unknown>)
  t.same(lines.map(l => l.msg), ['request', 'between', 'request'], 'in the order they were logged')
  t.same(lines[0], { level: 30, time: '2026-12-01T21:00:00.001Z', service: 'campaign-ims-proxy', reqId: 'r-1', status: 200, path: 'quote " here', msg: 'request' }, 'the first line whole, at its own time, the undefined field left out')
  t.equal(lines[2]?.time, '2026-12-01T21:00:00.002Z', 'the second at its own time too')
  const full = target()
  const small = new BatchedDestination(full, 1000, 60_000)
  const smallAccess = accessLogger(createLogger('info', small))
  smallAccess({ reqId: 'a' })
  t.same(full.texts, [], 'one access line waits')
  smallAccess({ reqId: 'b' })
  t.equal(full.texts.length, 1, 'two fill a 1000-character batch (512 counted each before formatting)')
})
