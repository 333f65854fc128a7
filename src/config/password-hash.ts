/**
 * The format of `integrations[].passwordHash`, as `hash-password` writes it:
 * `scrypt$N=32768,r=8,p=1$<salt base64url>$<hash base64url>`. Parsed when
 * the configuration loads (a malformed hash is a configuration problem) and
 * again by the verifier (src/auth/passwords.ts).
 */
const BOUNDS = { minLog2N: 10, maxLog2N: 20, maxR: 32, maxP: 16, minBytes: 16 } as const

export interface PasswordHash {
  readonly N: number
  readonly r: number
  readonly p: number
  readonly salt: Buffer
  readonly hash: Buffer
}

/** Parses and bounds-checks a hash string; throws an Error naming what is wrong (never echoing the hash). */
export function parsePasswordHash (encoded: string): PasswordHash {
  const parts = encoded.split('$')
  if (parts.length !== 4 || parts[0] !== 'scrypt') throw new Error('password hash: expected scrypt$N=..,r=..,p=..$<salt>$<hash>')
  const params = /^N=(\d+),r=(\d+),p=(\d+)$/.exec(parts[1] as string)
  if (params === null) throw new Error('password hash: parameters must read N=<n>,r=<r>,p=<p>')
  const [N, r, p] = [Number(params[1]), Number(params[2]), Number(params[3])]
  const log2N = Math.log2(N)
  if (!Number.isInteger(log2N) || log2N < BOUNDS.minLog2N || log2N > BOUNDS.maxLog2N) throw new Error(`password hash: N must be a power of two from 2^${BOUNDS.minLog2N} to 2^${BOUNDS.maxLog2N}`)
  if (r < 1 || r > BOUNDS.maxR) throw new Error(`password hash: r must be from 1 to ${BOUNDS.maxR}`)
  if (p < 1 || p > BOUNDS.maxP) throw new Error(`password hash: p must be from 1 to ${BOUNDS.maxP}`)
  const salt = Buffer.from(parts[2] as string, 'base64url')
  const hash = Buffer.from(parts[3] as string, 'base64url')
  if (salt.length < BOUNDS.minBytes || hash.length < BOUNDS.minBytes) throw new Error(`password hash: salt and hash must be at least ${BOUNDS.minBytes} bytes`)
  return { N, r, p, salt, hash }
}
