// `serve` and `check` exit with the same code, 2, for an invalid
// configuration, and both name every problem by its key.
import { join } from 'node:path'
import t from 'tap'
import { CHECK_EXIT } from '../../src/check.js'
import { main } from '../../src/commands.js'
import { MINIMAL, SESSION_SECRET, tempDir, writeFiles } from '../fixtures/config.js'
import { captureIo } from '../fixtures/io.js'

const MALFORMED_HASH = `${MINIMAL}sessions:
  secret: ${SESSION_SECRET}
technicalAccounts:
  main: { clientId: id, clientSecret: s, scopes: [openid] }
integrations:
  - { name: etl, login: etl_op, passwordHash: "scrypt$oops", technicalAccount: main }
`
const PROBLEM = 'integrations[0].passwordHash: password hash: expected scrypt$N=..,r=..,p=..$<salt>$<hash>'

t.test('a malformed passwordHash: serve and check both exit 2, naming the key', async t => {
  const { 'proxy.yaml': file } = await writeFiles(await tempDir(t), { 'proxy.yaml': MALFORMED_HASH }) as { 'proxy.yaml': string }
  t.equal(CHECK_EXIT.config, 2, "check's code for an invalid configuration")

  const serve = captureIo()
  t.equal(await main(['serve', '--config', file], serve), 2, 'serve: exit 2')
  t.equal(serve.err(), `campaign-ims-proxy serve: invalid configuration (${file}):\n  ${PROBLEM}\n`, 'serve: every problem on stderr, by key')
  t.equal(serve.out(), '', 'serve: nothing logged (it never started)')

  const byDefault = captureIo()
  t.equal(await main(['--config', file], byDefault), 2, 'serve as the default command: exit 2')
  t.match(byDefault.err(), PROBLEM, 'and the same problem')

  const check = captureIo()
  t.equal(await main(['check', '--config', file], check), 2, 'check: exit 2')
  t.match(check.out(), `invalid configuration (${file}):\n  ${PROBLEM}\n`, 'check: the problem on stdout, by key')
  t.match(check.out(), 'check: the configuration is invalid (exit 2)', 'check: its verdict')
})

t.test('an unreadable configuration file: exit 2 too', async t => {
  const missing = join(await tempDir(t), 'missing.yaml')
  for (const command of ['serve', 'check']) {
    const io = captureIo()
    t.equal(await main([command, '--config', missing], io), 2, `${command}: exit 2`)
    t.match(io.out() + io.err(), `(file): cannot read ${missing} (ENOENT)`, `${command}: says which file`)
  }
})
