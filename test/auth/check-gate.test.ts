// The gate in front of scrypt: at most maxConcurrent runs at once, a
// bounded queue overall and per login (refused past it), the logins served
// in turn so a flooded one cannot starve another, and a slot given back
// whatever the run's outcome.
import t from 'tap'
import { CHECK_GATE_DEFAULTS, CheckGate, type CheckGateState } from '../../src/auth/check-gate.js'

/** A task that ends when the test says so, recording when it started. */
function controlled (started: string[], name: string): { task: () => Promise<string>, end: () => void, fail: () => void } {
  let end = (): void => {}
  let fail = (): void => {}
  const done = new Promise<string>((resolve, reject) => {
    end = () => { resolve(name) }
    fail = () => { reject(new Error(`${name} failed`)) }
  })
  return { task: async () => { started.push(name); return await done }, end, fail }
}

const settle = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve() }

t.test('at most maxConcurrent run at once; the queues are bounded overall and per login', async t => {
  const states: CheckGateState[] = []
  const gate = new CheckGate({ maxConcurrent: 2, queueDepth: 3, queueDepthPerLogin: 2 }, state => { states.push(state) })
  const started: string[] = []
  const tasks = ['a1', 'a2', 'a3', 'a4'].map(name => controlled(started, name))
  const runs: Promise<string>[] = []
  for (const [i, task] of tasks.entries()) {
    t.ok(gate.admits('a'), `a${i + 1} is admitted`)
    runs.push(gate.run('a', task.task))
  }
  t.same(started, ['a1', 'a2'], 'two run')
  t.same(gate.state, { running: 2, queued: 2 }, 'two wait')
  t.notOk(gate.admits('a'), "a third of login a's would pass its queue of 2: refused")
  t.ok(gate.admits('b'), 'another login still has room')
  const b1 = controlled(started, 'b1')
  runs.push(gate.run('b', b1.task))
  t.same(gate.state, { running: 2, queued: 3 }, 'the overall queue of 3 is full')
  t.notOk(gate.admits('c'), 'so a third login is refused too')
  t.same(Math.max(...states.map(s => s.running)), 2, 'never more than two running')

  tasks[0]?.end()
  await settle()
  t.same(started, ['a1', 'a2', 'a3'], 'a place freed: the first login in turn, a, starts its next')
  tasks[1]?.end()
  await settle()
  t.same(started, ['a1', 'a2', 'a3', 'b1'], 'then b, although a was waiting longer: turns, not arrival')
  tasks[2]?.end()
  b1.end()
  await settle()
  t.same(started, ['a1', 'a2', 'a3', 'b1', 'a4'], 'then a again')
  tasks[3]?.end()
  t.same(await Promise.all(runs), ['a1', 'a2', 'a3', 'a4', 'b1'], 'every run returns its own result')
  t.same(gate.state, { running: 0, queued: 0 }, 'and the gate is empty again')
  t.same(states.at(-1), { running: 0, queued: 0 }, 'as last reported')
  t.same(Math.max(...states.map(s => s.running)), 2, 'still never more than two running')
})

t.test('a flooded login delays another by one run, not by its whole queue', async t => {
  const gate = new CheckGate({ maxConcurrent: 1, queueDepth: 100, queueDepthPerLogin: 100 })
  const started: string[] = []
  const flood = Array.from({ length: 50 }, (_, i) => controlled(started, `flood${i}`))
  const runs = flood.map(f => gate.run('flooded', f.task))
  const other = controlled(started, 'other')
  runs.push(gate.run('other', other.task))
  flood[0]?.end()
  await settle()
  flood[1]?.end()
  await settle()
  t.same(started, ['flood0', 'flood1', 'other'], 'the other login runs after the one in progress and the flooded login\'s next')
  other.end()
  for (const f of flood) f.end()
  await Promise.all(runs)
  t.equal(started.length, 51, 'everything ran')
})

t.test('a failing run gives its place back; configure raises or lowers the limits', async t => {
  const gate = new CheckGate({ maxConcurrent: 1, queueDepth: 0, queueDepthPerLogin: 0 })
  const started: string[] = []
  const first = controlled(started, 'first')
  const failing = gate.run('a', first.task)
  t.notOk(gate.admits('a'), 'no queue at all: refused while one runs')
  first.fail()
  await t.rejects(failing, /first failed/, 'the run rejects with its error')
  t.ok(gate.admits('a'), 'and its place is free again')

  const held = controlled(started, 'held')
  const heldRun = gate.run('a', held.task)
  gate.configure({ maxConcurrent: 1, queueDepth: 1, queueDepthPerLogin: 1 })
  t.ok(gate.admits('a'), 'a reload that adds a queue admits one waiting check')
  const waiting = controlled(started, 'waiting')
  const waitingRun = gate.run('a', waiting.task)
  t.same(gate.state, { running: 1, queued: 1 }, 'it waits')
  gate.configure({ maxConcurrent: 2, queueDepth: 1, queueDepthPerLogin: 1 })
  await settle()
  t.same(started, ['first', 'held', 'waiting'], 'a raised limit starts it at once')
  t.same(gate.state, { running: 2, queued: 0 }, 'both run')
  gate.configure({ maxConcurrent: 1, queueDepth: 0, queueDepthPerLogin: 0 })
  t.notOk(gate.admits('b'), 'a lowered limit refuses new checks; the two in progress go on')
  held.end()
  waiting.end()
  t.same(await Promise.all([heldRun, waitingRun]), ['held', 'waiting'], 'and end normally')
  t.same(new CheckGate().state, { running: 0, queued: 0 }, 'the defaults apply without limits')
  t.same(CHECK_GATE_DEFAULTS, { maxConcurrent: 2, queueDepth: 32, queueDepthPerLogin: 8 }, 'the documented defaults')
})
