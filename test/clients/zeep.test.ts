// Compatibility matrix, a second language: Python's zeep (Debian package
// python3-zeep, installed by .ci/run) reads the WSDL through the proxy and
// pushes an event with login/password. Skipped, saying so, where zeep is
// not installed.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { hashPassword } from '../../src/auth/passwords.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'

const run = promisify(execFile)
const PYTHON = '/usr/bin/python3'
const hasZeep = await run(PYTHON, ['-c', 'import zeep']).then(() => true, () => false)

t.test('zeep: WSDL through the proxy, PushEvent with login/password', { skip: hasZeep ? false : 'python3-zeep is not installed (apt-get install python3-zeep)' }, async t => {
  const hash = await hashPassword('zeep-pw', { N: 1024 })
  const s = await startProxyStack(t, {
    integrations: `  - { name: python-esb, login: py_operator, passwordHash: '${hash}', technicalAccount: events }`,
    extra: 'unknownCallers: reject\nwsdl: { technicalAccount: marketing }',
  })
  const script = fileURLToPath(new URL('python/zeep_push_event.py', import.meta.url))
  const { stdout } = await run(PYTHON, [script, `${s.server.proxyUrl}/nl/jsp/schemawsdl.jsp?schema=nms:rtEvent`, 'py_operator/zeep-pw'])
  t.equal(stdout.trim(), '73000001', 'zeep prints the event id Campaign returned')
  const pushed = s.campaign.requests.at(-1)
  t.equal(pushed?.soapMethod, 'nms:rtEvent#PushEvent', 'the last call Campaign received is the PushEvent')
  t.equal(pushed?.headers.authorization, `Bearer ${(await s.server.tokens.get('events')).value}`, 'with the integration\'s account token')
  t.notMatch(pushed?.body.toString(), 'zeep-pw', 'and no password')
  t.same(s.campaign.events.map(e => e.attributes.email), ['zeep@example.com'], 'the event reached Campaign')
})
