export interface Timestamper {
  /** The current instant, from the injected clock. */
  now(): Date
  /** RFC 3339 UTC. */
  format(instant: Date): string
  /** Parses RFC 3339 with 0 to 9 fractional digits; throws InvalidMessageError otherwise. */
  parse(text: string): Date
}

/** Encodes the access token body (gzip + base64url in the default suite). */
export interface TokenEncoder {
  encode(text: string): Promise<string>
  /** Throws InvalidMessageError for malformed input or input that inflates past the cap. */
  decode(encoded: string): Promise<string>
}

/**
 * Decides whether an identity belongs to the key material presented at account creation.
 * Throws InvalidIdentityError when it does not.
 */
export interface IdentityVerifier {
  verify(identity: string, publicKey: string, rotationHash: string, extra: string): Promise<void>
}
