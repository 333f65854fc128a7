/**
 * CIDR blocks and single addresses (`10.1.0.0/16`, `192.0.2.7`, `::1`),
 * checked and written in one canonical form (`192.0.2.7/32`, `::1/128`).
 */
import { isIP } from 'node:net'

export type CidrResult = { readonly ok: true, readonly cidr: string } | { readonly ok: false, readonly problem: string }

const NOT_A_NETWORK = 'is not an IP address or CIDR block (examples: 10.1.0.0/16, 192.0.2.7, 2001:db8::/32)'

/** `text` as canonical `address/prefix`, or why it is not one. A block with host bits set is refused rather than silently widened. */
export function normaliseCidr (text: string): CidrResult {
  const [address = '', prefixText, extra] = text.split('/')
  // isIP accepts zone indexes (`fe80::1%eth0`), which a block cannot carry.
  const family = address.includes('%') || extra !== undefined ? 0 : isIP(address)
  if (family === 0) return { ok: false, problem: NOT_A_NETWORK }
  const bits = family === 4 ? 32 : 128
  const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN
  if (!(prefix <= bits)) return { ok: false, problem: `has an invalid prefix length: IPv${family} allows /0 to /${bits}` }
  const value = family === 4 ? ipv4Value(address) : ipv6Value(address)
  const hostBits = BigInt(bits - prefix)
  const network = (value >> hostBits) << hostBits
  const cidr = `${family === 4 ? formatIpv4(network) : formatIpv6(network)}/${prefix}`
  if (network !== value) return { ok: false, problem: `has host bits set: the block is ${cidr}` }
  return { ok: true, cidr }
}

function ipv4Value (address: string): bigint {
  return address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(octet), 0n)
}

/** Valid per isIP: at most one `::`, optionally an embedded IPv4 tail. */
function ipv6Value (address: string): bigint {
  let text = address
  const dotted = /\d+\.\d+\.\d+\.\d+$/.exec(text)
  if (dotted !== null) {
    const v4 = ipv4Value(dotted[0])
    text = `${text.slice(0, dotted.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const groupsOf = (part: string): string[] => (part === '' ? [] : part.split(':'))
  const before = groupsOf(head)
  const after = tail === undefined ? [] : groupsOf(tail)
  const zeros: string[] = tail === undefined ? [] : new Array<string>(8 - before.length - after.length).fill('0')
  return [...before, ...zeros, ...after].reduce((acc, group) => (acc << 16n) | BigInt(`0x${group}`), 0n)
}

function formatIpv4 (value: bigint): string {
  return [24n, 16n, 8n, 0n].map(shift => String((value >> shift) & 0xffn)).join('.')
}

function formatIpv6 (value: bigint): string {
  const groups = [7n, 6n, 5n, 4n, 3n, 2n, 1n, 0n].map(i => ((value >> (16n * i)) & 0xffffn).toString(16))
  // The WHATWG URL serialiser writes IPv6 in the RFC 5952 compressed form.
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1)
}
