/**
 * The `campaign-ims-proxy` commands, callable in-process (tests) or from the
 * `cli.ts` entry point (which owns the real process).
 */
import { describeSimulators, SIMULATE_USAGE, simulateConfig, startSimulators, UsageError } from './sim/simulate.js'

export interface CommandIo {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  readonly shutdown: Promise<unknown>
}

export const USAGE = `Usage: campaign-ims-proxy <command> [options]

Commands:
  simulate    run the Adobe IMS and Adobe Campaign simulators
  help        print this help

Run 'campaign-ims-proxy <command> --help' for a command's options.
`

type Command = (args: readonly string[], io: CommandIo) => Promise<number>

const COMMANDS: Readonly<Record<string, Command>> = {
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
  help: async (_args, io) => {
    io.stdout.write(USAGE)
    return 0
  },
}

/** Runs a command; resolves to the process exit code. */
export async function main (argv: readonly string[], io: CommandIo): Promise<number> {
  const [name = 'help', ...args] = argv
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
    io.stderr.write(`campaign-ims-proxy ${name}: ${(err as Error).message}\n`)
    return 1
  }
}
