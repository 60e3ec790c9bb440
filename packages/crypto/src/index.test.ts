import { describe, expect, it } from 'vitest'
import * as api from './index.js'

describe('public API', () => {
  it('exports exactly these names', () => {
    expect(Object.keys(api).sort()).toEqual([
      'Blake3Hasher',
      'DefaultIdentityVerifier',
      'GzipTokenEncoder',
      'NobleP256SigningKey',
      'NobleP256Verifier',
      'Rfc3339Timestamper',
      'SecureNoncer',
      'WebCryptoP256SigningKey',
      'WebCryptoP256Verifier',
      'blake3Digest',
      'p256PublicKeyFromJwk',
      'p256PublicKeyToJwk',
    ])
  })
})

describe('conformance helpers', () => {
  it('are behind @better-auth/crypto/testing and @better-auth/crypto/testing/node', async () => {
    expect(Object.keys(await import('./testing/index.js'))).toEqual(['verifyP256Raw'])
    expect(Object.keys(await import('./testing/node/index.js'))).toEqual(['verifyP256RawNode'])
  })
})
