#!/usr/bin/env node
/**
 * Process entry point: the only place that touches argv, signals and the
 * exit code. Everything else lives in commands.ts.
 */
import { once } from 'node:events'
import { main } from './commands.js'

const shutdown = Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')])
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, shutdown })
process.exit()
