// Secrets: inline or { file: PATH }; files checked at load, read on every use, never echoed.
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { describeSecret, readSecret } from '../../src/config/secret.js'
import { HASH, MINIMAL, parse, problemsOf, tempDir, writeFiles } from '../fixtures/config.js'

const CONTENT = 'super-secret-content-never-shown'
const SHORT = 'a-31-character-session-secret!!'

t.test('readSecret: inline values as given, files re-read on every call, trailing newlines trimmed', async t => {
  const dir = await tempDir(t)
  const { secret } = await writeFiles(dir, { secret: `${CONTENT}\n` })
  const source = { kind: 'file', path: secret as string } as const
  t.equal(await readSecret({ kind: 'value', value: ' as is \n' }), ' as is \n', 'an inline value is returned untouched')
  t.equal(await readSecret(source), CONTENT, 'the trailing newline an editor adds is removed')
  await writeFile(source.path, 'rotated\r\n\n\n')
  t.equal(await readSecret(source), 'rotated', 'a rotated file is seen by the next call, every trailing CR/LF removed')
  await writeFile(source.path, '  spaced  \n')
  t.equal(await readSecret(source), '  spaced  ', 'other whitespace belongs to the secret')
})

t.test('readSecret: a missing or empty file fails naming the path, never the content', async t => {
  const dir = await tempDir(t)
  const { secret } = await writeFiles(dir, { secret: CONTENT })
  const missing = join(dir, 'missing')
  await t.rejects(readSecret({ kind: 'file', path: missing }), { message: `cannot read secret file ${missing} (ENOENT)`, cause: { code: 'ENOENT' } },
    'the error names the file and the reason, with the fs error as cause')
  await writeFile(secret as string, '\n')
  await t.rejects(readSecret({ kind: 'file', path: secret as string }), { message: `secret file ${secret as string} is empty` },
    'a file holding only a newline is an empty secret, not the secret ""')
})

t.test('describeSecret: where a secret comes from, never its value', async t => {
  t.equal(describeSecret({ kind: 'file', path: '/run/secrets/x' }), 'file /run/secrets/x', 'a file is named by its path')
  t.equal(describeSecret({ kind: 'value', value: CONTENT }), 'inline value', 'an inline value is not shown')
})

t.test('load: secret files become sources with absolute paths; relative ones resolve against baseDir', async t => {
  const dir = await tempDir(t)
  await mkdir(join(dir, 'secrets'))
  const { 'secrets/client': client, 'secrets/session': session } = await writeFiles(dir, { 'secrets/client': CONTENT, 'secrets/session': CONTENT })
  const config = parse(`${MINIMAL}technicalAccounts:
  main:
    clientId: id
    clientSecret: { file: secrets/client }
    scopes: [openid]
sessions:
  secret:
    file: ${session as string}
`, { baseDir: dir })
  t.same(config.technicalAccounts.get('main')?.clientSecret, { kind: 'file', path: client }, 'a relative path is resolved against the base directory')
  t.same(config.sessions.secret, { kind: 'file', path: session }, 'an absolute path is kept')
  t.notMatch(JSON.stringify(config), CONTENT, 'the loaded configuration does not hold the file content')
})

t.test('load: a secret file that is missing, a directory or empty is a problem that never shows content', async t => {
  const dir = await tempDir(t)
  await mkdir(join(dir, 'adir'))
  const { empty, good } = await writeFiles(dir, { empty: '', good: CONTENT })
  const yaml = `${MINIMAL}technicalAccounts:
  a: { clientId: id, clientSecret: { file: missing }, scopes: [openid] }
  b: { clientId: id, clientSecret: { file: adir }, scopes: [openid] }
  c: { clientId: id, clientSecret: { file: empty }, scopes: [openid] }
  d: { clientId: id, clientSecret: { file: good }, scopes: [openid] }
sessions:
  secret: { file: missing }
`
  const problems = problemsOf(yaml, { baseDir: dir })
  t.same(problems, [
    `technicalAccounts.a.clientSecret.file: cannot read ${join(dir, 'missing')} (ENOENT)`,
    `technicalAccounts.b.clientSecret.file: ${join(dir, 'adir')} is not a regular file`,
    `technicalAccounts.c.clientSecret.file: ${empty as string} is empty`,
    `sessions.secret.file: cannot read ${join(dir, 'missing')} (ENOENT)`,
  ], 'each unusable file is reported at its path; the good one is not')
  t.notMatch(problems.join('\n'), CONTENT, 'no problem carries a secret')
  t.ok(good, 'the readable file exists')
})

t.test('load: inline secrets too short, of the wrong shape, or required but missing', async t => {
  const problems = problemsOf(`${MINIMAL}technicalAccounts:
  a: { clientId: id, clientSecret: "", scopes: [openid] }
  b: { clientId: id, clientSecret: { path: /x }, scopes: [openid] }
  c: { clientId: id, clientSecret: [1], scopes: [openid] }
  d: { clientId: id, clientSecret: { file: "" }, scopes: [openid] }
sessions:
  secret: ${SHORT}
`)
  t.same(problems, [
    'technicalAccounts.a.clientSecret: must not be empty',
    'technicalAccounts.b.clientSecret.file: is required',
    'technicalAccounts.b.clientSecret.path: unknown key',
    'technicalAccounts.c.clientSecret: must be a string (the secret) or { file: PATH }',
    'technicalAccounts.d.clientSecret.file: must not be empty',
    'sessions.secret: must be at least 32 characters (for example `openssl rand -base64 48`)',
  ], 'every shape problem is named; the short session secret is refused without being shown')
  t.notMatch(problems.join('\n'), SHORT, 'the inline secret does not appear')

  const login = `${MINIMAL}technicalAccounts:
  main: { clientId: id, clientSecret: s, scopes: [openid] }
integrations:
  - { name: a, networks: [10.0.0.0/8], technicalAccount: main }
  - { name: b, login: op, passwordHash: "${HASH}", technicalAccount: main }
`
  t.same(problemsOf(login), ['sessions.secret: is required because integrations[1] logs on with a login: proxy sessions are signed with it'],
    'an ims login needs a session secret')
  t.equal(parse(login + `sessions:\n  secret: "${'x'.repeat(32)}"\n`).sessions.secret?.kind, 'value', '32 characters are enough')
  t.equal(parse(`${MINIMAL}integrations:\n  - { name: p, mode: passthrough, login: op }\n`).sessions.secret, undefined,
    'a passthrough login gets no proxy session, so no secret is needed')
})
