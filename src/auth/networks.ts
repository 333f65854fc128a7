/**
 * Inbound identity by network address (docs/architecture.md#identity-order): the socket
 * address, or the client address named in `X-Forwarded-For` when the
 * socket belongs to a configured trusted proxy.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net'

export interface NetworkMatcher<T> {
  /** The first entry whose networks contain `address`, or undefined. */
  match (address: string): T | undefined
}

/** Node reports IPv4 clients of a dual-stack socket as `::ffff:a.b.c.d`. */
export function normaliseAddress (address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  return mapped?.[1] ?? address
}

/** A BlockList of CIDR blocks (`10.1.0.0/16`, `::1/128`) or single addresses. */
export function blockListOf (networks: readonly string[]): BlockList {
  const list = new BlockList()
  for (const network of networks) {
    const slash = network.indexOf('/')
    const address = slash === -1 ? network : network.slice(0, slash)
    const family = isIPv6(address) ? 'ipv6' : 'ipv4'
    if (slash === -1) list.addAddress(address, family)
    else list.addSubnet(address, Number(network.slice(slash + 1)), family)
  }
  return list
}

/** Whether `address` (IPv4, IPv6 or IPv4-mapped IPv6) is in `list`. */
export function isInBlockList (list: BlockList, address: string): boolean {
  const normalised = normaliseAddress(address)
  if (isIPv4(normalised)) return list.check(normalised, 'ipv4')
  if (isIPv6(normalised)) return list.check(normalised, 'ipv6')
  return false
}

/** Precomputes one BlockList per entry; entries are tried in order. */
export function networkMatcher<T> (entries: readonly { readonly networks: readonly string[], readonly value: T }[]): NetworkMatcher<T> {
  const lists = entries.filter(e => e.networks.length > 0).map(e => ({ list: blockListOf(e.networks), value: e.value }))
  return {
    match (address) {
      for (const { list, value } of lists) {
        if (isInBlockList(list, address)) return value
      }
      return undefined
    },
  }
}

/**
 * What `callerAddress` answers when a forwarded hop cannot be read: an
 * address no network or allow-list contains, so the caller is identified
 * by nothing it sent (docs/security.md).
 */
export const UNIDENTIFIED_CALLER = 'unidentified'

/**
 * The caller's address: walking `X-Forwarded-For` from the right, skip
 * entries that are trusted proxies; the first untrusted one is the client.
 * A hop may carry a port (`203.0.113.7:50123`, `[2001:db8::1]:443`), which
 * is dropped; a hop that is not an address (`unknown`, an obfuscated name,
 * an empty entry) ends the walk with UNIDENTIFIED_CALLER: skipping it would
 * make the entry to its left, which anyone can write, the caller.
 * Without trusted proxies (or when the socket peer is not one) the socket
 * address is the caller, whatever the header says.
 */
export function callerAddress (socketAddress: string, forwardedFor: string | undefined, trustedProxies: BlockList | undefined): string {
  const peer = normaliseAddress(socketAddress)
  if (trustedProxies === undefined || forwardedFor === undefined || !isInBlockList(trustedProxies, peer)) return peer
  const hops = forwardedFor.split(',')
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hopAddress(hops[i] as string)
    if (hop === undefined) return UNIDENTIFIED_CALLER
    if (i === 0 || !isInBlockList(trustedProxies, hop)) return hop
  }
  /* c8 ignore next -- split always yields at least one entry, and the leftmost returns */
  return UNIDENTIFIED_CALLER
}

/** One `X-Forwarded-For` entry as an address, its port dropped; undefined when it is not one. */
export function hopAddress (entry: string): string | undefined {
  let hop = entry.trim()
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(hop)
  if (bracketed !== null) {
    hop = bracketed[1] as string
    return isIPv6(hop) && !hop.includes('%') ? normaliseAddress(hop) : undefined
  }
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(hop)
  if (v4WithPort !== null) hop = v4WithPort[1] as string
  hop = normaliseAddress(hop)
  // A zone id (`fe80::1%eth0`) names an interface of the sender's host: not a caller address.
  return isIPv4(hop) || (isIPv6(hop) && !hop.includes('%')) ? hop : undefined
}
