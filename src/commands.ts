/**
 * The `campaign-ims-proxy` commands, callable in-process (tests) or from the
 * `cli.ts` entry point (which owns the real process).
 */
import { parseArgs } from 'node:util'
import type { DestinationStream } from 'pino'
import { auditRightsCommand } from './audit-rights.js'
import { CHECK_EXIT, CHECK_USAGE, checkCommand } from './check.js'
import { ConfigError } from './config/load.js'
import { DEMO_USAGE, demoInstructions, demoPorts, startDemo } from './demo.js'
import { hashPasswordCommand, type PasswordInput } from './hash-password-command.js'
import { createLogger } from './observability/logger.js'
import { serve } from './server.js'
import { SUGGEST_ALLOWLIST_USAGE, suggestAllowlistCommand } from './suggest-allowlist.js'
import { describeSimulators, SIMULATE_USAGE, simulateConfig, startSimulators } from './sim/simulate.js'
import { UsageError } from './usage-error.js'

export interface CommandIo {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  readonly shutdown: Promise<unknown>
  /** The environment `${VAR}` references in the configuration read. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Where `hash-password` reads the password and `audit-rights --apply` its confirmation (default: nothing to read, not a terminal). */
  readonly stdin?: PasswordInput
  /** Registers `serve`'s configuration reload on the process's reload signal (SIGHUP); returns its removal. */
  readonly onReloadSignal?: (reload: () => void) => () => void
}

export const USAGE = `Usage: campaign-ims-proxy <command> [options]

Commands:
  serve --config FILE   run the proxy (the default command)
  check --config FILE   check a configuration: a token per account, and Campaign accepting it
  audit-rights --config FILE --operator LOGIN --account ACCOUNT
                        compare the folder permissions and named rights of a legacy operator
                        and of the technical account's operator (Adobe's migration step 4)
  demo                  run the proxy in front of the embedded IMS and Campaign simulators
  simulate              run only the Adobe IMS and Adobe Campaign simulators
  hash-password         print the scrypt hash of a password (stdin or prompt) for passwordHash
  suggest-allowlist --from URL-or-FILE
                        print each integration's allowedMethods from a migration inventory
  help                  print this help

Run 'campaign-ims-proxy <command> --help' for a command's options.
`

const SERVE_USAGE = `Usage: campaign-ims-proxy serve --config FILE

Runs the proxy with the YAML configuration FILE (see config/example.yaml and
docs/configuration.md). SIGTERM or SIGINT stops it gracefully.
`

const EMPTY_INPUT: PasswordInput = { async * [Symbol.asyncIterator] () {} }

type Command = (args: readonly string[], io: CommandIo) => Promise<number>

const COMMANDS: Readonly<Record<string, Command>> = {
  serve: async (args, io) => {
    if (args.includes('--help')) {
      io.stdout.write(SERVE_USAGE)
      return 0
    }
    await serve(configOption(args), { shutdown: io.shutdown, env: io.env, logStream: io.stdout, ...(io.onReloadSignal === undefined ? {} : { onReloadSignal: io.onReloadSignal }) })
    return 0
  },
  check: async (args, io) => {
    if (args.includes('--help')) {
      io.stdout.write(CHECK_USAGE)
      return 0
    }
    return await checkCommand(configOption(args), io.env, io.stdout)
  },
  demo: async (args, io) => {
    if (args.includes('--help')) {
      io.stdout.write(DEMO_USAGE)
      return 0
    }
    // The same redaction as serve: the demo's logs are shown to people.
    const logger = createLogger('info', await humanLogStream(io.stderr))
    const demo = await startDemo(demoPorts(args), logger)
    io.stdout.write(demoInstructions(demo.server, demo.sims, demo.configFile))
    await io.shutdown
    await demo.close()
    return 0
  },
  simulate: async (args, io) => {
    if (args.includes('--help')) {
      io.stdout.write(SIMULATE_USAGE)
      return 0
    }
    const config = await simulateConfig(args)
    const running = await startSimulators(config)
    io.stdout.write(describeSimulators(config, running))
    await io.shutdown
    await running.close()
    return 0
  },
  'suggest-allowlist': async (args, io) => {
    if (args.includes('--help')) {
      io.stdout.write(SUGGEST_ALLOWLIST_USAGE)
      return 0
    }
    return await suggestAllowlistCommand(args, io.stdout)
  },
  'audit-rights': async (args, io) => await auditRightsCommand(args, io),
  'hash-password': async (args, io) => await hashPasswordCommand(args, io.stdin ?? EMPTY_INPUT, io.stdout, io.stderr),
  help: async (_args, io) => {
    io.stdout.write(USAGE)
    return 0
  },
}

/** The `--config FILE` option of serve and check. */
function configOption (args: readonly string[]): string {
  let values
  try {
    values = parseArgs({ args: [...args], options: { config: { type: 'string', short: 'c' } } }).values
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (values.config === undefined) throw new UsageError('--config FILE is required')
  return values.config
}

/** pino-pretty when installed (a development dependency), JSON lines otherwise. */
async function humanLogStream (stream: NodeJS.WritableStream): Promise<DestinationStream> {
  try {
    const { default: pretty } = await import('pino-pretty')
    return pretty({ destination: stream, colorize: false, sync: true, ignore: 'pid,hostname' })
  /* c8 ignore start -- pino-pretty is installed wherever the tests run; production installs omit it */
  } catch {
    return stream as DestinationStream
  }
  /* c8 ignore stop */
}

/**
 * Runs a command; resolves to the process exit code: 2 for a usage error
 * or an invalid configuration (the same code as `check`), 1 for any other
 * failure.
 */
export async function main (argv: readonly string[], io: CommandIo): Promise<number> {
  // `serve` is the default command: `campaign-ims-proxy --config FILE` serves.
  const isServeFlags = argv[0]?.startsWith('-') === true && argv[0] !== '--help'
  const [name = 'help', ...args] = isServeFlags ? ['serve', ...argv] : argv
  const command = COMMANDS[name === '--help' ? 'help' : name]
  if (command === undefined) {
    io.stderr.write(`campaign-ims-proxy: unknown command '${name}'\n\n${USAGE}`)
    return 2
  }
  try {
    return await command(args, io)
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`campaign-ims-proxy ${name}: ${err.message}\n`)
      return 2
    }
    if (err instanceof ConfigError) {
      // The message names every problem by its key.
      io.stderr.write(`campaign-ims-proxy ${name}: ${err.message}\n`)
      return CHECK_EXIT.config
    }
    io.stderr.write(`campaign-ims-proxy ${name}: ${(err as Error).message}\n`)
    return 1
  }
}
