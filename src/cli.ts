#!/usr/bin/env node
/**
 * Process entry point: the only place that touches argv, signals, the
 * environment and the exit code. Everything else lives in commands.ts.
 */
import closeWithGrace from 'close-with-grace'
import { main } from './commands.js'

/** Longest a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 30_000

let requestStop!: () => void
const shutdown = new Promise<void>(resolve => { requestStop = resolve })
let markDone!: () => void
const done = new Promise<void>(resolve => { markDone = resolve })
// close-with-grace waits for the returned promise (up to the delay), then exits.
// SIGHUP is not a stop signal here: `serve` reloads its configuration on it.
closeWithGrace({ delay: SHUTDOWN_GRACE_MS, skip: ['SIGHUP'] }, async ({ err }) => {
  /* c8 ignore next -- only on an uncaught exception or unhandled rejection */
  if (err !== undefined) process.stderr.write(`campaign-ims-proxy: ${err.message}\n`)
  requestStop()
  return await done
})

const onReloadSignal = (reload: () => void): () => void => {
  process.on('SIGHUP', reload)
  return () => { process.off('SIGHUP', reload) }
}

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, shutdown, env: process.env, onReloadSignal })
markDone()
process.exit()
