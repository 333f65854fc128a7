/**
 * A command line the user got wrong: the CLI prints the message after the
 * command's name and exits 2 (see `main` in commands.ts).
 */
export class UsageError extends Error {
  override name = 'UsageError'
}
