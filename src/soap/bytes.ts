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
 * Strings of bytes met before (element names, tag texts: they repeat from
 * call to call), found by a hash of the bytes and used only when the bytes
 * are the same, instead of a decode per occurrence. Bounded: the bytes are
 * the caller's to choose; once full, nothing more is kept.
 */
export class ByteStrings {
  readonly #byHash = new Map<number, string>()
  readonly #max: number

  constructor (max: number) {
    this.#max = max
  }

  /** The string kept for `buf[start, end)` (whose hash is `hash`), when it is one. */
  find (buf: Buffer, start: number, end: number, hash: number): string | undefined {
    const known = this.#byHash.get(hash)
    if (known === undefined || known.length !== end - start) return undefined
    for (let i = 0; i < known.length; i++) {
      if (known.charCodeAt(i) !== buf[start + i]) return undefined
    }
    return known
  }

  /** Keeps `text` (the latin1 reading of bytes hashed to `hash`) unless that hash names another string or the table is full. */
  keep (hash: number, text: string): void {
    if (this.#byHash.size < this.#max && !this.#byHash.has(hash)) this.#byHash.set(hash, text)
  }
}
