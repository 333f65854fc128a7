// `campaign-ims-proxy suggest-allowlist`: the allowedMethods of each
// integration from an /integrations document of scripted traffic, read
// from the admin URL or a saved file; and its refusals of what is not one.
import { createServer } from 'node:http'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parse as parseYaml } from 'yaml'
import { hashPassword } from '../../src/auth/passwords.js'
import { main } from '../../src/commands.js'
import { parseConfig } from '../../src/config/load.js'
import { MAX_INVENTORY_BYTES, suggestAllowlist } from '../../src/suggest-allowlist.js'
import { send, soapPost } from '../fixtures/http.js'
import { captureIo } from '../fixtures/io.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'
import { outputText, soapEnvelope } from '../fixtures/soap.js'

const PASSWORD = 'suggest-pw-0123'

async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'suggest-allowlist-'))
  t.teardown(async () => { const { rm } = await import('node:fs/promises'); await rm(dir, { recursive: true, force: true }) })
  return dir
}

interface Suggested { readonly integrations: ReadonlyArray<{ readonly name: string, readonly allowedMethods?: readonly string[] }> }

t.test('prints exactly the methods each integration used, from the admin URL and from a saved file', async t => {
  const hash = await hashPassword(PASSWORD, { N: 1024 })
  const s = await startProxyStack(t, {
    integrations: [
      `  - { name: nightly-etl, login: etl_op, passwordHash: '${hash}', technicalAccount: marketing }`,
      '  - { name: website-events, networks: [127.0.0.1], technicalAccount: events, allowedMethods: [nms:rtEvent#PushEvent] }',
      '  - { name: crm-sync, mode: passthrough, login: admin }',
      `  - { name: silent, login: silent_op, passwordHash: '${hash}', technicalAccount: marketing }`,
    ].join('\n'),
  })
  // nightly-etl: Logon, two GetOption, one ExecuteQuery, Logoff.
  const logon = await soapPost(s.soapRouter, soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', 'etl_op'], ['password', PASSWORD], ['parameters', { xml: '' }]] }), {}, 'xtk:session#Logon')
  const session = outputText(logon.text, 'pstrSessionToken') ?? ''
  t.equal(logon.status, 200, 'nightly-etl logs on')
  const etl = [
    ['xtk:session', 'GetOption', [['name', 'XtkDatabaseId']]],
    ['xtk:session', 'GetOption', [['name', 'NmsServer_URL']]],
    ['xtk:queryDef', 'ExecuteQuery', [['entity', { xml: '<queryDef schema="nms:recipient" operation="select"><select><node expr="@email"/></select></queryDef>' }]]],
  ] as const
  for (const [schema, method, params] of etl) {
    const answer = await soapPost(s.soapRouter, soapEnvelope({ schema, method, sessionToken: session, params }), {}, `${schema}#${method}`)
    t.equal(answer.status, 200, `nightly-etl ${method}`)
  }
  t.equal((await soapPost(s.soapRouter, soapEnvelope({ schema: 'xtk:session', method: 'Logoff', sessionToken: session, params: [] }), {}, 'xtk:session#Logoff')).status, 200, 'nightly-etl logs off')
  // website-events (by network): two PushEvent and one refused Write.
  for (let i = 0; i < 2; i++) {
    const pushed = await soapPost(s.soapRouter, soapEnvelope({ schema: 'nms:rtEvent', method: 'PushEvent', params: [['domEvent', { xml: '<rtEvent type="welcome" email="a@example.com"/>' }]] }), {}, 'nms:rtEvent#PushEvent')
    t.equal(pushed.status, 200, 'website-events PushEvent')
  }
  const write = await soapPost(s.soapRouter, soapEnvelope({ schema: 'xtk:session', method: 'Write', params: [['domDoc', { xml: '<recipient xtkschema="nms:recipient" email="x@example.com"/>' }]] }), {}, 'xtk:session#Write')
  t.equal(write.status, 403, 'website-events Write is refused')
  // crm-sync: a native Logon (passthrough) and one call with Campaign's session.
  const native = await soapPost(s.soapRouter, soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', 'admin'], ['password', 'admin'], ['parameters', { xml: '' }]] }), {}, 'xtk:session#Logon')
  t.equal(native.status, 200, 'crm-sync logs on with Campaign')
  const nativeSession = outputText(native.text, 'pstrSessionToken') ?? ''
  t.equal((await soapPost(s.soapRouter, soapEnvelope({ schema: 'xtk:session', method: 'GetOption', sessionToken: nativeSession, params: [['name', 'XtkDatabaseId']] }), {}, 'xtk:session#GetOption')).status, 200, 'crm-sync GetOption')

  const url = `${s.server.adminUrl}/integrations`
  const io = captureIo()
  t.equal(await main(['suggest-allowlist', '--from', url], io), 0, 'exit 0 from the admin URL')
  const printed = io.out()
  const expected = [
    { name: 'nightly-etl', allowedMethods: ['xtk:queryDef#ExecuteQuery', 'xtk:session#GetOption', 'xtk:session#Logoff', 'xtk:session#Logon'] },
    { name: 'website-events', allowedMethods: ['nms:rtEvent#PushEvent'] },
    { name: 'crm-sync', allowedMethods: ['xtk:session#GetOption', 'xtk:session#Logon'] },
    { name: 'silent' },
  ]
  t.same((parseYaml(printed) as Suggested).integrations, expected, 'the YAML parses, and lists per integration exactly the methods it used (refused ones left out)')
  t.match(printed, '      - xtk:session#GetOption   # 2 calls', 'each method with its call count as a comment')
  t.match(printed, '# refused by its current list, not suggested: xtk:session#Write (1 calls)', 'a refused method is a comment, never a suggestion')
  t.match(printed, '# passthrough: the list applies to its calls too', 'a passthrough integration is said to be one')
  t.match(printed, '# no SOAP method recorded (0 calls)', 'an integration without calls gets no list')
  const config = parseConfig(`
campaign: { url: 'https://campaign.example.com' }
ims: { tokenUrl: 'https://ims.example.com/ims/token/v3' }
technicalAccounts:
  marketing: { clientId: m, clientSecret: s, scopes: [openid] }
sessions: { secret: test-session-secret-0123456789abcdefghij }
integrations:
${(parseYaml(printed) as Suggested).integrations.map(i => `  - { name: ${i.name}, networks: [10.0.0.1], technicalAccount: marketing${i.allowedMethods === undefined ? '' : `, allowedMethods: [${i.allowedMethods.join(', ')}]`} }`).join('\n')}
`, { source: 'pasted', env: {} })
  t.same(config.integrations[0]?.allowedMethods, expected[0]?.allowedMethods, 'every suggested entry is accepted by the configuration loader')

  const dir = await tempDir()
  const file = join(dir, 'inventory.json')
  await writeFile(file, (await send(url)).text)
  const fromFile = captureIo()
  t.equal(await main(['suggest-allowlist', '--from', file], fromFile), 0, 'exit 0 from a saved file')
  t.same((parseYaml(fromFile.out()) as Suggested).integrations, expected, 'the same lists from the saved document')
})

t.test('what the inventory cannot say is said in comments', async t => {
  const printed = suggestAllowlist({
    generatedAt: undefined,
    integrations: [
      { name: 'odd name', mode: 'ims', calls: 103, methods: { 'x:y#A': 1, 'not a method\n': 1, other: 3 }, refused: {}, allowedMethods: null },
    ],
    unknownCallers: 2,
  }, 'inventory.json')
  const parsed = parseYaml(printed) as Suggested
  t.same(parsed.integrations, [{ name: 'odd name', allowedMethods: ['x:y#A'] }], 'a name that is not plain is quoted; a malformed method is left out')
  t.match(printed, '# 3 more calls to methods beyond the inventory\'s per-integration limit', 'methods counted under other are announced')
  t.match(printed, '# not a method name, left out: not a method\\n', 'the malformed name is shown escaped on one line')
  t.match(printed, '# 2 unknown callers are not listed', 'unknown callers are counted')
  t.same(parseYaml(suggestAllowlist({ generatedAt: 'now', integrations: [], unknownCallers: 0 }, 'x')), { integrations: [] }, 'no integration: an empty list')
})

t.test('refusals: no --from, unreadable, not an inventory', async t => {
  const dir = await tempDir()
  const run = async (args: string[]): Promise<{ code: number, err: string }> => {
    const io = captureIo()
    const code = await main(['suggest-allowlist', ...args], io)
    return { code, err: io.err() }
  }
  t.match(await run([]), { code: 2, err: /--from URL-or-FILE is required/ }, 'no --from: usage error')
  t.match(await run(['--form', 'x']), { code: 2, err: /Unknown option '--form'/ }, 'an unknown option: usage error')
  const help = captureIo()
  t.equal(await main(['suggest-allowlist', '--help'], help), 0, '--help')
  t.match(help.out(), 'Usage: campaign-ims-proxy suggest-allowlist --from URL-or-FILE', 'prints its usage')
  t.match(await run(['--from', join(dir, 'missing.json')]), { code: 1, err: /could not read .*missing\.json: ENOENT/ }, 'a missing file')
  const write = async (name: string, text: string | Buffer): Promise<string> => { const f = join(dir, name); await writeFile(f, text); return f }
  t.match(await run(['--from', await write('a.txt', 'hello')]), { code: 1, err: /is not JSON/ }, 'not JSON')
  t.match(await run(['--from', await write('b.json', '{"status":"ready"}')]), { code: 1, err: /has no integrations list/ }, 'JSON without integrations (/readyz saved by mistake)')
  t.match(await run(['--from', await write('n.json', 'null')]), { code: 1, err: /has no integrations list/ }, 'JSON null')
  t.match(await run(['--from', await write('c.json', '{"integrations":[{"calls":1}]}')]), { code: 1, err: /integrations\[0\] has no name/ }, 'an integration without a name')
  t.match(await run(['--from', await write('d.json', '{"integrations":[null]}')]), { code: 1, err: /integrations\[0\] has no name/ }, 'a null integration')
  t.match(await run(['--from', await write('big.json', Buffer.alloc(MAX_INVENTORY_BYTES + 1, 32))]), { code: 1, err: /is larger than/ }, 'a file over the size limit')
  const sparse = await run(['--from', await write('e.json', '{"integrations":[{"name":"x","methods":{"a:b#C":"two","a:b#D":1},"refused":null,"allowedMethods":"all"}],"unknownCallers":{}}')])
  t.equal(sparse.code, 0, 'fields of the wrong type are read as absent')

  const server = createServer((req, res) => {
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'application/json' })
      const chunk = Buffer.alloc(1024 * 1024, 32)
      let sent = 0
      const more = (): void => { while (sent <= MAX_INVENTORY_BYTES && res.write(chunk)) sent += chunk.length; if (sent <= MAX_INVENTORY_BYTES) res.once('drain', () => { sent += chunk.length; more() }); else res.end() }
      more()
      return
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const port = (server.address() as { port: number }).port
  t.match(await run(['--from', `http://127.0.0.1:${port}/nope`]), { code: 1, err: /answered HTTP 404, not an inventory/ }, 'an HTTP error status')
  t.match(await run(['--from', `http://127.0.0.1:${port}/big`]), { code: 1, err: /is larger than/ }, 'an answer over the size limit is cut')
  const closed = createServer()
  await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
  const closedPort = (closed.address() as { port: number }).port
  await new Promise(resolve => closed.close(resolve))
  t.match(await run(['--from', `http://127.0.0.1:${closedPort}/integrations`]), { code: 1, err: /could not read http:\/\/127\.0\.0\.1:\d+\/integrations: .*ECONNREFUSED|could not read .*connect/ }, 'nothing listening')
})

t.test('several --from (replicas without a shared store): the methods of every document, added up', async t => {
  const dir = await tempDir()
  const doc = (generatedAt: string | undefined, integrations: unknown[], unknownCallers: unknown[] = []): string => JSON.stringify({ ...(generatedAt === undefined ? {} : { generatedAt }), integrations, unknownCallers })
  const one = join(dir, 'replica-1.json')
  const two = join(dir, 'replica-2.json')
  await writeFile(one, doc('2026-12-01T09:00:00.000Z', [
    { name: 'etl', mode: 'ims', calls: 3, methods: { 'xtk:session#GetOption': 2, 'xtk:session#Logon': 1 }, refused: {}, allowedMethods: null },
  ], [{ address: '10.0.0.1' }]))
  await writeFile(two, doc('2026-12-01T09:00:05.000Z', [
    { name: 'etl', mode: 'ims', calls: 2, methods: { 'xtk:session#GetOption': 1, 'xtk:queryDef#ExecuteQuery': 1 }, refused: { 'xtk:session#Write': 1 }, allowedMethods: null },
    { name: 'web', mode: 'ims', calls: 1, methods: { 'nms:rtEvent#PushEvent': 1 }, refused: {}, allowedMethods: null },
  ]))
  const io = captureIo()
  t.equal(await main(['suggest-allowlist', '--from', one, '--from', two], io), 0, 'exit 0')
  const printed = io.out()
  t.same((parseYaml(printed) as Suggested).integrations, [
    { name: 'etl', allowedMethods: ['xtk:queryDef#ExecuteQuery', 'xtk:session#GetOption', 'xtk:session#Logon'] },
    { name: 'web', allowedMethods: ['nms:rtEvent#PushEvent'] },
  ], 'every method seen on any replica, each integration once')
  t.match(printed, '      - xtk:session#GetOption   # 3 calls', 'the counts added up')
  t.match(printed, 'refused by its current list, not suggested: xtk:session#Write (1 calls)', 'refusals of every replica')
  t.match(printed, '(generated 2026-12-01T09:00:05.000Z)', 'the latest generation time')
  t.match(printed, '# 1 unknown callers are not listed', 'unknown callers of every replica counted')
  const undated = captureIo()
  await writeFile(one, doc(undefined, []))
  t.equal(await main(['suggest-allowlist', '--from', one, '--from', one], undated), 0, 'documents without a generation time')
  t.notMatch(undated.out(), 'generated', 'no time said')
  t.match(await (async () => { const e = captureIo(); return { code: await main(['suggest-allowlist', '--from', one, '--from', ''], e), err: e.err() } })(), { code: 2, err: /--from URL-or-FILE is required/ }, 'an empty --from among several: usage error')
})
