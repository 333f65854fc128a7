// Acceptance: the demo command starts as a child process, and the curl
// commands and the acc-js-sdk snippet it prints work as printed.
import { execFile, fork } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'

const run = promisify(execFile)

t.test('demo prints curl commands and an acc-js-sdk snippet that work', async t => {
  const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
  const child = fork(cli, ['demo', '--port', '0', '--mc-port', '0', '--admin-port', '0', '--ims-port', '0', '--campaign-port', '0', '--mc-campaign-port', '0'], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (c: Buffer) => { stdout += c.toString() })
  child.stderr?.on('data', (c: Buffer) => { stderr += c.toString() })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  for (let i = 0; i < 600 && !stdout.includes('Press Ctrl-C'); i++) await new Promise(resolve => setTimeout(resolve, 50))
  t.match(stdout, /Press Ctrl-C to stop/, 'the demo started and printed its instructions')

  const curls = stdout.split('\n').filter(line => line.startsWith('curl '))
  t.equal(curls.length, 3, 'three curl commands are printed: one per instance, and one the integration may not make')
  const option = await run('sh', ['-c', curls[0] ?? 'false'])
  t.match(option.stdout, /<GetOptionResponse xmlns='urn:xtk:session'[^>]*>\n<pstrValue xsi:type='xsd:string'>uD5A3F1B7C2E94A0F8B6D1E3C5A7F9B2D4E6C8A0B<\/pstrValue>/, 'the first reads a marketing option through the proxy')
  const pushed = await run('sh', ['-c', curls[1] ?? 'false'])
  t.match(pushed.stdout, /<PushEventResponse xmlns='urn:nms:rtEvent'[^>]*>\n<plId xsi:type='xsd:long'>73000001<\/plId>/, 'the second pushes a Message Center event through the proxy')
  const written = await run('sh', ['-c', curls[2] ?? 'false'])
  t.match(written.stdout, /PRX-000018[^<]*<\/faultstring>[\s\S]*integration website-events may not call xtk:session#Write[\s\S]*\nHTTP 403\n$/, 'the third, a Write outside the integration\'s allowedMethods, is refused by the proxy with HTTP 403')

  const lines = stdout.split('\n')
  const start = lines.findIndex(l => l.startsWith('import sdk'))
  const snippet = lines.slice(start, lines.findIndex((l, i) => i > start && l === '')).join('\n')
  const dir = await mkdtemp(join(tmpdir(), 'demo-snippet-'))
  await symlink(fileURLToPath(new URL('../node_modules', import.meta.url)), join(dir, 'node_modules'))
  await writeFile(join(dir, 'demo.mjs'), snippet)
  const sdkRun = await run(process.execPath, [join(dir, 'demo.mjs')])
  t.equal(sdkRun.stdout, 'marketing database uD5A3F1B7C2E94A0F8B6D1E3C5A7F9B2D4E6C8A0B\nevent id 73000002\n', 'the printed acc-js-sdk snippet reads the option and pushes the next event')

  child.kill('SIGTERM')
  const [code] = await once(child, 'exit') as [number | null]
  t.equal(code, 0, 'SIGTERM stops the demo cleanly')
  t.notMatch(stderr, /demo-marketing-secret|demo-mc-secret/, 'the logs never show a client secret')
})
