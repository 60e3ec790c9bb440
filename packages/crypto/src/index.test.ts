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
      'constantTimeEqualBytes',
      'p256PublicKeyFromJwk',
      'p256PublicKeyToJwk',
      'verifyP256Raw',
    ])
  })
})
