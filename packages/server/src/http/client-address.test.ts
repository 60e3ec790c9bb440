import { describe, expect, it } from 'vitest'
import { clientAddressResolver, normalizeAddress, type RequestClient } from './client-address.js'

function client(remoteAddress: string | undefined, forwarded?: string): RequestClient {
  return {
    remoteAddress,
    header: (name) => (name === 'x-forwarded-for' ? forwarded : undefined),
  }
}

describe('clientAddressResolver', () => {
  it('ignores X-Forwarded-For by default: the peer is the client', () => {
    const resolve = clientAddressResolver()
    expect(resolve(client('203.0.113.9', '198.51.100.1'))).toBe('203.0.113.9')
  })

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    const resolve = clientAddressResolver({ trustedProxies: ['10.0.0.1'] })
    expect(resolve(client('203.0.113.9', '198.51.100.1'))).toBe('203.0.113.9')
  })

  it('takes the rightmost untrusted hop behind a trusted proxy, never what the client wrote', () => {
    const resolve = clientAddressResolver({ trustedProxies: ['10.0.0.1', '10.0.0.2'] })
    expect(resolve(client('10.0.0.1', '198.51.100.1'))).toBe('198.51.100.1')
    // The client claimed 1.1.1.1; the proxies appended what they saw.
    expect(resolve(client('10.0.0.1', '1.1.1.1, 198.51.100.1, 10.0.0.2'))).toBe('198.51.100.1')
    expect(resolve(client('10.0.0.1', '10.0.0.2'))).toBe('10.0.0.2')
    expect(resolve(client('10.0.0.1'))).toBe('10.0.0.1')
    expect(resolve(client('10.0.0.1', 'x, , 198.51.100.1'))).toBe('198.51.100.1')
    expect(resolve(client('10.0.0.1', ' , 10.0.0.2'))).toBe('10.0.0.2')
  })

  it('reads the header the operator names', () => {
    const resolve = clientAddressResolver({
      trustedProxies: ['10.0.0.1'],
      forwardedHeader: 'X-Real-IP',
    })
    const withRealIp: RequestClient = {
      remoteAddress: '10.0.0.1',
      header: (name) => (name === 'x-real-ip' ? '198.51.100.7' : '6.6.6.6'),
    }
    expect(resolve(withRealIp)).toBe('198.51.100.7')
  })

  it('has no address when the runtime gives none', () => {
    expect(clientAddressResolver()(undefined)).toBeUndefined()
    expect(clientAddressResolver()(client(undefined, '198.51.100.1'))).toBeUndefined()
  })

  it('treats IPv4-mapped IPv6 as IPv4, and case as insignificant', () => {
    expect(normalizeAddress('::FFFF:10.0.0.1')).toBe('10.0.0.1')
    expect(normalizeAddress('2001:DB8::1')).toBe('2001:db8::1')
    const resolve = clientAddressResolver({ trustedProxies: ['10.0.0.1'] })
    expect(resolve(client('::ffff:10.0.0.1', '198.51.100.1'))).toBe('198.51.100.1')
  })

  it('refuses a malformed proxy list', () => {
    for (const trustedProxies of [[''], 'x', [1]]) {
      expect(() =>
        clientAddressResolver({ trustedProxies: trustedProxies as unknown as string[] }),
      ).toThrow(expect.objectContaining({ code: 'BA001' }))
    }
  })
})
