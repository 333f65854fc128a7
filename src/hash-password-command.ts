/**
 * `campaign-ims-proxy hash-password`: reads a password from standard input
 * (piped: the whole input, one trailing newline removed) or from a prompt
 * without echo (a terminal: typed twice), and prints its scrypt hash for
 * `integrations[].passwordHash`.
 */
import { hashPassword } from './auth/passwords.js'
import { UsageError } from './usage-error.js'

export const HASH_PASSWORD_USAGE = `Usage: campaign-ims-proxy hash-password

Prints the scrypt hash of a password for integrations[].passwordHash.
  printf '%s' "$PASSWORD" | campaign-ims-proxy hash-password
Run in a terminal, it asks for the password twice without echoing it.
`

export interface PasswordInput extends AsyncIterable<Buffer | string> {
  readonly isTTY?: boolean
  setRawMode? (mode: boolean): unknown
}

async function readAll (input: AsyncIterable<Buffer | string>): Promise<string> {
  let text = ''
  for await (const chunk of input) text += chunk.toString()
  return text.replace(/\r?\n$/, '')
}

/** Reads lines typed on a terminal in raw mode, echoing nothing; keeps what was typed ahead for the next line. */
function hiddenLineReader (input: PasswordInput, output: NodeJS.WritableStream): (prompt: string) => Promise<string> {
  const chunks = input[Symbol.asyncIterator]()
  let pending = ''
  return async (prompt) => {
    output.write(prompt)
    input.setRawMode?.(true)
    let line = ''
    try {
      for (;;) {
        if (pending === '') {
          const next = await chunks.next()
          if (next.done === true) return line
          pending = next.value.toString()
        }
        const char = pending.charAt(0)
        pending = pending.slice(1)
        if (char === '\r' || char === '\n') return line
        if (char === '\u0003') throw new UsageError('cancelled')
        line = char === '\u007f' ? line.slice(0, -1) : line + char
      }
    } finally {
      input.setRawMode?.(false)
      output.write('\n')
    }
  }
}

export async function hashPasswordCommand (args: readonly string[], input: PasswordInput, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<number> {
  if (args.includes('--help')) {
    stdout.write(HASH_PASSWORD_USAGE)
    return 0
  }
  if (args.length > 0) throw new UsageError(`unexpected argument '${String(args[0])}'`)
  let password: string
  if (input.isTTY === true) {
    const readHidden = hiddenLineReader(input, stderr)
    password = await readHidden('Password: ')
    if (await readHidden('Repeat: ') !== password) throw new UsageError('the passwords do not match')
  } else {
    password = await readAll(input)
  }
  if (password === '') throw new UsageError('empty password')
  stdout.write(`${await hashPassword(password)}\n`)
  return 0
}
