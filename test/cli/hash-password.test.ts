// `campaign-ims-proxy hash-password`: piped or typed (twice, without echo) passwords, and its refusals.
import { PassThrough } from 'node:stream'
import t from 'tap'
import { verifyPassword } from '../../src/auth/passwords.js'
import { main } from '../../src/commands.js'
import { captureIo } from '../fixtures/io.js'

function piped (text: string): PassThrough {
  const input = new PassThrough()
  input.end(text)
  return input
}

function terminal (typed: string[]): PassThrough & { isTTY: boolean, setRawMode (mode: boolean): void, modes: boolean[] } {
  const input = Object.assign(new PassThrough(), { isTTY: true, modes: [] as boolean[], setRawMode (mode: boolean) { input.modes.push(mode) } })
  for (const chunk of typed) input.write(chunk)
  return input
}

t.test('a piped password is hashed', async t => {
  const io = { ...captureIo(), stdin: piped('s3cret pass\n') }
  t.equal(await main(['hash-password'], io), 0, 'exit 0')
  const hash = io.out().trim()
  t.match(hash, /^scrypt\$N=32768,r=8,p=1\$/, 'prints a scrypt hash with the default cost')
  t.ok(await verifyPassword('s3cret pass', hash), 'of the password without its trailing newline')
})

t.test('a terminal: typed twice without echo', async t => {
  const input = terminal(['pa', 'x\u007fss\r', 'pass\n'])
  const io = { ...captureIo(), stdin: input }
  t.equal(await main(['hash-password'], io), 0, 'exit 0')
  t.ok(await verifyPassword('pass', io.out().trim()), 'backspace edits the typed password')
  t.equal(io.err(), 'Password: \nRepeat: \n', 'prompts on stderr, nothing echoed')
  t.same(input.modes, [true, false, true, false], 'raw mode on while typing, then off')
})

t.test('refusals', async t => {
  const cases: [string[], ReturnType<typeof captureIo> & { stdin?: unknown }, RegExp][] = [
    [['hash-password'], { ...captureIo(), stdin: piped('\n') }, /empty password/],
    [['hash-password'], captureIo(), /empty password/],
    [['hash-password', 'extra'], captureIo(), /unexpected argument 'extra'/],
    [['hash-password'], { ...captureIo(), stdin: terminal(['one\r', 'two\r']) }, /the passwords do not match/],
    [['hash-password'], { ...captureIo(), stdin: terminal(['\u0003']) }, /cancelled/],
  ]
  for (const [argv, io, message] of cases) {
    t.equal(await main(argv, io as Parameters<typeof main>[1]), 2, `${message.source}: exit 2`)
    t.match(io.err(), message, 'says why')
  }
  const ended = terminal(['abc'])
  ended.end()
  const io = { ...captureIo(), stdin: ended }
  t.equal(await main(['hash-password'], io), 2, 'input ending before Enter: the second prompt gets nothing')
  const help = captureIo()
  t.equal(await main(['hash-password', '--help'], help), 0, '--help')
  t.match(help.out(), /printf '%s' "\$PASSWORD" \| campaign-ims-proxy hash-password/, 'shows how to pipe a password')
})
