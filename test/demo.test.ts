// Acceptance: the demo command starts as a child process, and the curl
// command and the acc-js-sdk snippet it prints work as printed.
import { execFile, fork } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'

const run = promisify(execFile)

t.test('demo prints a curl command and an acc-js-sdk snippet that work', async t => {
  const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
  const child = fork(cli, ['demo', '--port', '0', '--admin-port', '0', '--ims-port', '0', '--campaign-port', '0'], {
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

  const curl = stdout.split('\n').find(line => line.startsWith('curl '))
  t.ok(curl, 'a curl command is printed')
  const pushed = await run('sh', ['-c', curl ?? 'false'])
  t.match(pushed.stdout, /<PushEventResponse xmlns='urn:nms:rtEvent'[^>]*>\n<plId xsi:type='xsd:long'>73000001<\/plId>/, 'the printed curl pushes an event through the proxy')

  const lines = stdout.split('\n')
  const start = lines.findIndex(l => l.startsWith('import sdk'))
  const snippet = lines.slice(start, lines.findIndex((l, i) => i > start && l.startsWith('console.log')) + 1).join('\n')
  const dir = await mkdtemp(join(tmpdir(), 'demo-snippet-'))
  await symlink(fileURLToPath(new URL('../node_modules', import.meta.url)), join(dir, 'node_modules'))
  await writeFile(join(dir, 'demo.mjs'), snippet)
  const sdkRun = await run(process.execPath, [join(dir, 'demo.mjs')])
  t.equal(sdkRun.stdout, 'event id 73000002\n', 'the printed acc-js-sdk snippet pushes the next event')

  child.kill('SIGTERM')
  const [code] = await once(child, 'exit') as [number | null]
  t.equal(code, 0, 'SIGTERM stops the demo cleanly')
  t.notMatch(stderr, /demo-client-secret/, 'the logs never show the client secret')
})
