/**
 * Integration passwords: scrypt (node:crypto) hashes whose parameters are
 * part of the string, so they can be raised later without breaking stored
 * hashes; verification in constant time.
 *
 * Format: `scrypt$N=32768,r=8,p=1$<salt base64url>$<hash base64url>`.
 */
import { randomBytes, scrypt, timingSafeEqual, type BinaryLike, type ScryptOptions } from 'node:crypto'
import { promisify } from 'node:util'

export const SCRYPT_DEFAULTS = { N: 32_768, r: 8, p: 1, keyLength: 32, saltLength: 16 } as const
const BOUNDS = { minLog2N: 10, maxLog2N: 20, maxR: 32, maxP: 16, minBytes: 16 } as const

export interface PasswordHash {
  readonly N: number
  readonly r: number
  readonly p: number
  readonly salt: Buffer
  readonly hash: Buffer
}

const scryptAsync = promisify(scrypt) as (password: BinaryLike, salt: BinaryLike, keyLength: number, options: ScryptOptions) => Promise<Buffer>
type ScryptParams = { readonly [K in keyof typeof SCRYPT_DEFAULTS]: number }

function derive (password: string, salt: Buffer, keyLength: number, params: { N: number, r: number, p: number }): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; allow twice that.
  return scryptAsync(password.normalize('NFC'), salt, keyLength, { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r })
}

/** Hashes a password for `integrations[].passwordHash`. */
export async function hashPassword (password: string, params: Partial<ScryptParams> = {}): Promise<string> {
  const { N, r, p, keyLength, saltLength } = { ...SCRYPT_DEFAULTS, ...params }
  const salt = randomBytes(saltLength)
  const hash = await derive(password, salt, keyLength, { N, r, p })
  return `scrypt$N=${N},r=${r},p=${p}$${salt.toString('base64url')}$${hash.toString('base64url')}`
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

/** Whether `password` matches `encoded`, compared in constant time. */
export async function verifyPassword (password: string, encoded: string): Promise<boolean> {
  const { N, r, p, salt, hash } = parsePasswordHash(encoded)
  const candidate = await derive(password, salt, hash.length, { N, r, p })
  return timingSafeEqual(candidate, hash)
}
