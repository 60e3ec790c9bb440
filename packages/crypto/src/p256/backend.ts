/** The name of a P-256 implementation. */
export type P256BackendName = 'noble' | 'webcrypto'

/**
 * What a verifier needs from an ECDSA P-256 / SHA-256 implementation. Implementations resolve
 * false for anything malformed and never reject, so verifiers built on them keep the Verifier
 * contract without wrapping every call.
 */
export interface P256Backend {
  readonly name: P256BackendName
  /**
   * @param message the signed bytes (hashed with SHA-256 by the backend)
   * @param signature 64-byte r‖s
   * @param publicKey SEC1 compressed (33 bytes) or uncompressed (65 bytes)
   */
  verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): Promise<boolean>
}
