/** Byte sizes written as integers or with a unit: `64KiB`, `1MiB`, `1GiB`, `10MB`. */

const UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
}

const SIZE = /^(?:(\d+)|(\d+(?:\.\d+)?) ?([kmgt]i?b|b))$/i

/**
 * Bytes for `text`: a whole number of bytes, or a number with a unit
 * (case-insensitive; KB, MB, GB, TB are powers of 1000, KiB, MiB, GiB, TiB
 * powers of 1024; `1.5MiB` is rounded down to whole bytes). Undefined when
 * it is not a size.
 */
export function parseSize (text: string): number | undefined {
  const match = SIZE.exec(text)
  if (match === null) return undefined
  const bytes = match[1] === undefined
    ? Math.floor(Number(match[2]) * (UNITS[(match[3] as string).toLowerCase()] as number))
    : Number(match[1])
  return Number.isSafeInteger(bytes) ? bytes : undefined
}
