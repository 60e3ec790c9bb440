import { ConfigurationError } from '@better-auth/protocol'

/** What an adapter knows of the connection a request came on. */
export interface RequestClient {
  /** The peer address of the connection; undefined when the runtime does not tell. */
  readonly remoteAddress: string | undefined
  /** A request header (first value), read only when the peer is a trusted proxy. */
  header(name: string): string | null | undefined
}

export interface ClientAddressOptions {
  /**
   * Addresses of the reverse proxies in front of the server. Only a request whose peer is one of
   * them has its forwarded-for header read; by default none is, and the header is ignored.
   */
  readonly trustedProxies?: readonly string[]
  /** The header such proxies set (default `x-forwarded-for`). */
  readonly forwardedHeader?: string
}

/**
 * The client address of a request: the peer, or, when the peer is a trusted proxy, the rightmost
 * forwarded address that is not itself a trusted proxy (entries left of it are the client's own
 * say and could be anything).
 */
export function clientAddressResolver(
  options: ClientAddressOptions = {},
): (client: RequestClient | undefined) => string | undefined {
  const proxies = options.trustedProxies ?? []
  if (
    !Array.isArray(proxies) ||
    proxies.some((proxy) => typeof proxy !== 'string' || proxy === '')
  ) {
    throw new ConfigurationError('trustedProxies', 'must be a list of addresses')
  }
  const header = (options.forwardedHeader ?? 'x-forwarded-for').toLowerCase()
  const trusted = new Set(proxies.map(normalizeAddress))
  return (client) => {
    const peer = client?.remoteAddress
    if (peer === undefined || peer === '') return undefined
    let address = normalizeAddress(peer)
    if (!trusted.has(address)) return address
    const forwarded = client?.header(header)
    if (forwarded === null || forwarded === undefined) return address
    const hops = forwarded.split(',').map((hop) => normalizeAddress(hop.trim()))
    for (let index = hops.length - 1; index >= 0; index--) {
      const hop = hops[index]!
      if (hop === '') break
      address = hop
      if (!trusted.has(hop)) break
    }
    return address
  }
}

/** Lower case, without an IPv4-mapped IPv6 prefix (`::ffff:10.0.0.1` is `10.0.0.1`). */
export function normalizeAddress(address: string): string {
  const lower = address.toLowerCase()
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower
}
