import { ConfigurationError } from '@better-auth/protocol'
import type { P256BackendName } from './backend.js'
import { nobleBackend } from './noble.js'
import { webCryptoBackend } from './webcrypto.js'

/**
 * Verifies an ECDSA P-256 / SHA-256 signature over raw bytes, as conformance suites (Wycheproof)
 * need: `signature` is 64-byte r‖s, `publicKey` is SEC1 compressed (33 bytes) or uncompressed
 * (65 bytes). Resolves false, never rejects, for malformed input of any type. An unknown backend
 * name is a programming error and rejects with ConfigurationError.
 */
export async function verifyP256Raw(
  backend: P256BackendName,
  message: Uint8Array,
  signature: Uint8Array,
  publicKey: Uint8Array,
): Promise<boolean> {
  switch (backend) {
    case 'noble':
      return nobleBackend.verify(message, signature, publicKey)
    case 'webcrypto':
      return webCryptoBackend().verify(message, signature, publicKey)
    default:
      throw new ConfigurationError('backend', "expected 'noble' or 'webcrypto'")
  }
}
