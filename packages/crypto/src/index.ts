/**
 * The default crypto suite: P-256 (pure JavaScript or Web Crypto), BLAKE3, nonces, RFC 3339
 * timestamps and access-token encoding. No Node-specific code.
 *
 * @module @better-auth/crypto
 */
export { Blake3Hasher, blake3Digest } from './hasher.js'
export { SecureNoncer, type SecureNoncerOptions } from './noncer.js'
export { Rfc3339Timestamper, type Rfc3339TimestamperOptions } from './timestamper.js'
export { GzipTokenEncoder, type GzipTokenEncoderOptions } from './token-encoder.js'
export { DefaultIdentityVerifier } from './identity-verifier.js'
export type { P256BackendName } from './p256/backend.js'
export { NobleP256SigningKey, NobleP256Verifier } from './p256/noble.js'
export {
  WebCryptoP256SigningKey,
  WebCryptoP256Verifier,
  type WebCryptoP256KeyOptions,
  type WebCryptoP256VerifierOptions,
} from './p256/webcrypto.js'
export {
  p256PublicKeyFromJwk,
  p256PublicKeyToJwk,
  type P256PrivateJwk,
  type P256PublicJwk,
} from './p256/key-formats.js'
