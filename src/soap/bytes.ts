/** The markup bytes both SOAP body readers (locate-scanner.ts, structure.ts) look for: ASCII in every encoding they accept. */
export const LT = 0x3c
export const GT = 0x3e
export const SLASH = 0x2f
export const QUESTION = 0x3f
export const BANG = 0x21
export const DASH = 0x2d
export const EQUALS = 0x3d
export const DOUBLE_QUOTE = 0x22
export const SINGLE_QUOTE = 0x27

/** XML white space (section 2.3): space, LF, CR, tab; past the end of a buffer, undefined is not. */
export function isWhitespace (b: number | undefined): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09
}

/**
 * Values computed before from the same bytes (element names, tags: they
 * repeat from call to call), found by a hash of the bytes and used only
 * when the bytes are the same (compared with a copy of them kept with the
 * value), instead of a decode or a parse per occurrence. Bounded: the
 * bytes are the caller's to choose; once full, nothing more is kept.
 */
export class ByteTable<T> {
  readonly #byHash = new Map<number, { readonly bytes: Buffer, readonly value: T }>()
  readonly #max: number

  constructor (max: number) {
    this.#max = max
  }

  /** The value kept for `buf[start, end)` (whose hash is `hash`), when there is one. */
  find (buf: Buffer, start: number, end: number, hash: number): T | undefined {
    const known = this.#byHash.get(hash)
    if (known === undefined) return undefined
    const bytes = known.bytes
    if (bytes.length !== end - start) return undefined
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] !== buf[start + i]) return undefined
    }
    return known.value
  }

  /** Keeps `value` for `buf[start, end)` (hashed to `hash`) unless that hash names other bytes or the table is full. */
  keep (buf: Buffer, start: number, end: number, hash: number, value: T): void {
    if (this.#byHash.size < this.#max && !this.#byHash.has(hash)) this.#byHash.set(hash, { bytes: Buffer.from(buf.subarray(start, end)), value })
  }
}

/** The 32-bit FNV-1a hash of `buf[start, end)`, the key of a ByteTable. */
export function hashOf (buf: Buffer, start: number, end: number): number {
  let hash = 0x811c9dc5
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ (buf[i] as number), 0x01000193)
  return hash
}
