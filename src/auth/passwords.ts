/**
 * Integration passwords: scrypt (node:crypto) hashes whose parameters are
 * part of the string, so they can be raised later without breaking stored
 * hashes; verification in constant time.
 *
 * Format: `scrypt$N=32768,r=8,p=1$<salt base64url>$<hash base64url>`.
 */
import { randomBytes, scrypt, timingSafeEqual, type BinaryLike, type ScryptOptions } from 'node:crypto'
import { promisify } from 'node:util'
import { parsePasswordHash } from '../config/password-hash.js'

export { parsePasswordHash, type PasswordHash } from '../config/password-hash.js'

export const SCRYPT_DEFAULTS = { N: 32_768, r: 8, p: 1, keyLength: 32, saltLength: 16 } as const

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

/** Whether `password` matches `encoded`, compared in constant time. */
export async function verifyPassword (password: string, encoded: string): Promise<boolean> {
  const { N, r, p, salt, hash } = parsePasswordHash(encoded)
  const candidate = await derive(password, salt, hash.length, { N, r, p })
  return timingSafeEqual(candidate, hash)
}
