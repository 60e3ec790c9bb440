/** BLAKE3-256 (or another suite's digest) over the UTF-8 bytes of a string, CESR-encoded. */
export interface Hasher {
  sum(message: string): Promise<string>
}

/** 128 bits from a CSPRNG, CESR-encoded (`0A…`). */
export interface Noncer {
  generate128(): Promise<string>
}

export interface Verifier {
  /**
   * Verifies a CESR signature over the UTF-8 bytes of `message` with a CESR public key.
   * Resolves `false` for a signature that does not verify, including malformed signatures and
   * keys; never resolves `true` for anything else.
   */
  verify(message: string, signature: string, publicKey: string): Promise<boolean>
}

export interface VerificationKey {
  /** The CESR public key. */
  public(): Promise<string>
  verifier(): Verifier
  verify(message: string, signature: string): Promise<boolean>
}

/** A private key handle. Implementations may keep the key in an HSM or a non-extractable store. */
export interface SigningKey extends VerificationKey {
  sign(message: string): Promise<string>
  /**
   * For a key that rotates (a `ServiceKeyRing`'s): the key in use now. Callers that sign and name
   * the signer (`public()`) take it once, so both belong to one key whatever rotates meanwhile.
   */
  current?(): SigningKey
}
