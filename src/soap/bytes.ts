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
